// A device list argument: None, "cuda:0,cuda:1" / "cuda:all", or a sequence of device strings.
#pragma once

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <string>
#include <vector>

#include "rank_rerank/device.hpp"

namespace rank_rerank::python {

// Empty for None; parse_devices otherwise (ValueError for a bad list). Anything else is a
// TypeError naming what was given.
inline std::vector<Device> devices_arg(nanobind::handle obj) {
  namespace nb = nanobind;
  if (obj.is_none()) return {};
  if (nb::isinstance<nb::str>(obj)) return parse_devices(nb::cast<std::string>(obj));
  std::vector<std::string> entries;
  if (!nb::try_cast(obj, entries))
    throw nb::type_error(("devices: expected a string such as 'cuda:0,cuda:1' or a sequence of "
                          "device strings, got " +
                          std::string(nb::type_name(obj.type()).c_str()))
                             .c_str());
  return parse_devices(entries);
}

}  // namespace rank_rerank::python
