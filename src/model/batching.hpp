// Model-side policies shared by the encoders: which backend to build for the options, and how a
// list of inputs is cut into forward passes (splitting a batch when the device runs out of
// memory).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>

#include "backend/backend.hpp"
#include "rank_rerank/device.hpp"

namespace rank_rerank::model {

// The backend for an encoder's device / dtype options. nullopt: Device::automatic(); when that
// falls back to the CPU, a half-precision dtype becomes f32 (the CPU computes in f32 only).
// An explicit device goes through require_usable and throws when it cannot be used.
std::shared_ptr<backend::Backend> make_model_backend(const std::optional<Device>& device,
                                                     DType dtype, int num_threads);

// Calls run(begin, end) over [0, count) in consecutive slices of at most batch_size items.
// When a slice throws backend::DeviceOutOfMemory it is split in two and each half retried, so
// `run` must not commit results before its device work succeeded. A single item that still does
// not fit throws Error (runtime) naming `what` and the item.
void for_each_batch(std::size_t count, std::size_t batch_size, const char* what,
                    const std::function<void(std::size_t, std::size_t)>& run);

}  // namespace rank_rerank::model
