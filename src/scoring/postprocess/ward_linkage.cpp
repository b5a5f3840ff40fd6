// Ward linkage by the nearest-neighbour chain (Müllner 2011, "Modern hierarchical,
// agglomerative clustering algorithms", NN-chain-linkage), O(n^2) time on an n x n matrix, and
// scipy's maxclust cut. Every choice that decides a tie is the one scipy makes, and the distance
// update is evaluated in scipy's order, so equal inputs give bit-identical trees:
//   * a new chain starts at the smallest live cluster;
//   * the nearest neighbour of the chain's tip starts from the previous chain element and is only
//     replaced by a strictly smaller distance, scanning live clusters in increasing order;
//   * the merged cluster takes the slot of the larger of the two ids;
//   * merges are then stably sorted by height (NaN last, like numpy.argsort) and relabelled with
//     a union-find, which gives the n, n+1, ... numbering and a < b in every row.
// The row scan and the distance update run as SIMD kernels (ward_kernels.cpp), compiled without
// fused multiply-adds so every rounding is scipy's.
#include "scoring/postprocess/ward_linkage.hpp"

#include "scoring/postprocess/ward_kernels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

namespace rank_rerank::detail {
namespace {

// Merges as the chain finds them: slot ids, not yet relabelled.
struct RawMerge {
  int x;
  int y;
  double height;
};

// Dead clusters and the diagonal hold +inf, so a row scan needs no liveness test: +inf is never
// strictly smaller than the running minimum, exactly like scipy skipping those entries.
void nn_chain(double* dist, std::size_t n, std::vector<RawMerge>& merges) {
  constexpr double kInf = std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < n; ++i) dist[i * n + i] = kInf;
  std::vector<std::int32_t> size(n, 1);
  std::vector<int> live(n);  // live cluster slots, increasing
  std::iota(live.begin(), live.end(), 0);
  std::vector<int> chain;
  chain.reserve(n);
  int y = 0;  // persists across steps, as in scipy
  for (std::size_t step = 0; step + 1 < n; ++step) {
    if (chain.empty()) chain.push_back(live.front());
    int x = 0;
    double best = 0.0;
    for (;;) {
      x = chain.back();
      const double* row = dist + static_cast<std::size_t>(x) * n;
      if (chain.size() > 1) {
        y = chain[chain.size() - 2];
        best = row[y];
      } else {
        best = kInf;
      }
      const std::ptrdiff_t nearer = first_min_below(row, n, best);
      if (nearer >= 0) {
        y = static_cast<int>(nearer);
        best = row[y];
      }
      if (chain.size() > 1 && y == chain[chain.size() - 2]) break;
      chain.push_back(y);
    }
    chain.resize(chain.size() - 2);
    if (x > y) std::swap(x, y);
    const int nx = size[x];
    const int ny = size[y];
    merges.push_back({x, y, best});
    size[x] = 0;
    size[y] = nx + ny;
    live.erase(std::lower_bound(live.begin(), live.end(), x));
    const double* row_x = dist + static_cast<std::size_t>(x) * n;
    double* row_y = dist + static_cast<std::size_t>(y) * n;
    ward_update_row(row_x, row_y, size.data(), n, static_cast<std::size_t>(y), nx, ny, best);
    for (const int i : live) {
      dist[static_cast<std::size_t>(i) * n + x] = kInf;
      if (i != y) dist[static_cast<std::size_t>(i) * n + y] = row_y[i];
    }
  }
}

// Union-find over the 2n - 1 clusters; merged roots point at the new cluster id.
class ClusterForest {
 public:
  explicit ClusterForest(std::size_t n) : parent_(2 * n - 1), size_(2 * n - 1, 1), next_(n) {
    std::iota(parent_.begin(), parent_.end(), 0);
  }
  int find(int v) {
    int root = v;
    while (parent_[root] != root) root = parent_[root];
    while (parent_[v] != root) {
      const int up = parent_[v];
      parent_[v] = root;
      v = up;
    }
    return root;
  }
  int merge(int a, int b) {
    parent_[a] = next_;
    parent_[b] = next_;
    size_[next_] = size_[a] + size_[b];
    return size_[next_++];
  }

 private:
  std::vector<int> parent_;
  std::vector<int> size_;
  int next_;
};

}  // namespace

void ward_linkage_square(double* dist, std::size_t n, double* z) {
  std::vector<RawMerge> merges;
  merges.reserve(n - 1);
  nn_chain(dist, n, merges);

  std::vector<std::size_t> order(merges.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t l, std::size_t r) {
    const double a = merges[l].height;
    const double b = merges[r].height;
    return a < b || (!std::isnan(a) && std::isnan(b));
  });

  ClusterForest forest(n);
  for (std::size_t k = 0; k < order.size(); ++k) {
    const RawMerge& m = merges[order[k]];
    const int rx = forest.find(m.x);
    const int ry = forest.find(m.y);
    const int merged_size = forest.merge(rx, ry);
    double* row = z + 4 * k;
    row[0] = std::min(rx, ry);
    row[1] = std::max(rx, ry);
    row[2] = m.height;
    row[3] = merged_size;
  }
}

namespace {

int child_id(double v) { return static_cast<int>(v); }

// Largest height in each subtree (scipy's get_max_dist_for_each_cluster); children always have
// smaller row numbers, so one pass in row order suffices.
std::vector<double> max_height_below(const double* z, std::size_t n) {
  std::vector<double> mc(n - 1);
  const int leaves = static_cast<int>(n);
  for (std::size_t r = 0; r + 1 < n; ++r) {
    double m = z[4 * r + 2];
    const int a = child_id(z[4 * r]);
    const int b = child_id(z[4 * r + 1]);
    if (a >= leaves && mc[a - leaves] > m) m = mc[a - leaves];
    if (b >= leaves && mc[b - leaves] > m) m = mc[b - leaves];
    mc[r] = m;
  }
  return mc;
}

// Flat clusters formed when every subtree whose criterion is <= threshold becomes one cluster
// (leaves outside such subtrees are singletons); stops counting once above `limit`.
std::size_t count_clusters(const double* z, std::size_t n, const std::vector<double>& mc,
                           double threshold, std::size_t limit, std::vector<int>& stack) {
  const int leaves = static_cast<int>(n);
  std::size_t count = 0;
  stack.assign(1, 2 * leaves - 2);
  while (!stack.empty() && count <= limit) {
    const int node = stack.back() - leaves;
    stack.pop_back();
    if (mc[node] <= threshold) {
      ++count;
      continue;
    }
    for (const int child : {child_id(z[4 * node]), child_id(z[4 * node + 1])}) {
      if (child >= leaves)
        stack.push_back(child);
      else
        ++count;
    }
  }
  return count;
}

// scipy's cluster_monocrit labelling: a depth-first walk from the root that visits a node's
// non-leaf children (left, then right) before labelling its leaf children (left, then right).
// The first node on a path whose criterion is <= cutoff opens a cluster for its whole subtree;
// a leaf outside any such subtree is a singleton cluster.
std::int32_t label_clusters(const double* z, std::size_t n, const std::vector<double>& mc,
                            double cutoff, std::int32_t* labels) {
  const int leaves = static_cast<int>(n);
  struct Frame {
    int node;
    int stage;  // 0: enter, 1: left subtree done, 2: right subtree done
  };
  std::vector<Frame> stack{{2 * leaves - 2 - leaves, 0}};
  int leader = -1;  // row of the node whose subtree is the open cluster
  std::int32_t clusters = 0;
  while (!stack.empty()) {
    Frame& f = stack.back();
    const int a = child_id(z[4 * f.node]);
    const int b = child_id(z[4 * f.node + 1]);
    if (f.stage == 0) {
      if (leader == -1 && mc[f.node] <= cutoff) {
        leader = f.node;
        ++clusters;
      }
      f.stage = 1;
      if (a >= leaves) {
        stack.push_back({a - leaves, 0});
        continue;
      }
    }
    if (f.stage == 1) {
      f.stage = 2;
      if (b >= leaves) {
        stack.push_back({b - leaves, 0});
        continue;
      }
    }
    for (const int child : {a, b}) {
      if (child >= leaves) continue;
      if (leader == -1) ++clusters;
      labels[child] = clusters;
    }
    if (leader == f.node) leader = -1;
    stack.pop_back();
  }
  return clusters;
}

}  // namespace

std::int32_t maxclust_labels(const double* z, std::size_t n, std::size_t max_clusters,
                             std::int32_t* labels) {
  if (max_clusters >= n) {
    for (std::size_t i = 0; i < n; ++i) labels[i] = static_cast<std::int32_t>(i + 1);
    return static_cast<std::int32_t>(n);
  }
  const std::vector<double> mc = max_height_below(z, n);
  // Binary search, as scipy does, for the smallest criterion value (by row) whose cut gives at
  // most max_clusters clusters. The root's value always qualifies unless heights are NaN; then
  // everything is cut at +inf (one cluster), where scipy would read past its array.
  std::vector<int> stack;
  long lower = -1;
  long upper = static_cast<long>(n) - 1;
  while (upper - lower > 1) {
    const long mid = (lower + upper) / 2;
    if (count_clusters(z, n, mc, mc[mid], max_clusters, stack) > max_clusters)
      lower = mid;
    else
      upper = mid;
  }
  const double cutoff =
      upper < static_cast<long>(n) - 1 ? mc[upper] : std::numeric_limits<double>::infinity();
  return label_clusters(z, n, mc, cutoff, labels);
}

}  // namespace rank_rerank::detail
