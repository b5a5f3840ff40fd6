// Reproducible normally distributed test inputs.
#pragma once

#include <cstddef>
#include <random>
#include <vector>

namespace test_support {

// n values drawn from N(0, scale^2) by a generator seeded with `seed`.
inline std::vector<float> random_values(std::size_t n, float scale, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = dist(rng);
  return v;
}

}  // namespace test_support
