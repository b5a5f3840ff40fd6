#include "model/batching.hpp"

#include <algorithm>
#include <string>

#include "rank_rerank/error.hpp"

namespace rank_rerank::model {

std::shared_ptr<backend::Backend> make_model_backend(const std::optional<Device>& device,
                                                     DType dtype, int num_threads) {
  if (device) return backend::make_backend(*device, dtype, num_threads);
  const Device chosen = Device::automatic();
  return backend::make_backend(chosen, chosen.is_cuda() ? dtype : DType::f32, num_threads);
}

namespace {

void run_splitting(std::size_t begin, std::size_t end, const char* what,
                   const std::function<void(std::size_t, std::size_t)>& run) {
  try {
    run(begin, end);
  } catch (const backend::DeviceOutOfMemory& oom) {
    if (end - begin <= 1)
      throw Error(ErrorKind::runtime, std::string(what) + ": input " + std::to_string(begin) +
                                          " alone does not fit in device memory (" + oom.what() +
                                          ")");
    const std::size_t middle = begin + (end - begin) / 2;
    run_splitting(begin, middle, what, run);
    run_splitting(middle, end, what, run);
  }
}

}  // namespace

void for_each_batch(std::size_t count, std::size_t batch_size, const char* what,
                    const std::function<void(std::size_t, std::size_t)>& run) {
  for (std::size_t begin = 0; begin < count; begin += batch_size)
    run_splitting(begin, std::min(count, begin + batch_size), what, run);
}

}  // namespace rank_rerank::model
