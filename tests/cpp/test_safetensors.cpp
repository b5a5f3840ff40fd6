// safetensors reading: files from the real writer (the safetensors package), hand-made hostile
// headers, truncation and corruption.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <random>

#include "io/safetensors_format.hpp"
#include "io_test_support.hpp"
#include "rank_rerank/weights.hpp"

namespace rr = rank_rerank;
using io_test::error_of;
using io_test::ScratchDir;

namespace {

std::string hex_of(std::span<const std::byte> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (const std::byte b : bytes) {
    out += kHex[std::to_integer<int>(b) >> 4];
    out += kHex[std::to_integer<int>(b) & 0xf];
  }
  return out;
}

// A safetensors file from a header and data, as the format defines it.
std::string safetensors_bytes(const std::string& header, const std::string& data) {
  std::string out(8, '\0');
  std::uint64_t n = header.size();
  for (int i = 0; i < 8; ++i)
    out[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string open_error(const std::string& bytes) {
  ScratchDir dir;
  io_test::write_file(dir / "x.safetensors", bytes);
  return error_of([&] { rr::Weights::open(dir / "x.safetensors"); });
}

class RealWriter : public ::testing::Test {
 protected:
  void SetUp() override {
    if (io_test::safetensors_fixtures().empty())
      GTEST_FAIL() << "could not run tests/fixtures/make_safetensors_fixtures.py with "
                   << RANK_RERANK_PYTHON_EXECUTABLE
                   << " (run scripts/bootstrap.sh to install the safetensors package)";
  }
  static const std::filesystem::path& dir() { return io_test::safetensors_fixtures(); }
};

}  // namespace

TEST_F(RealWriter, EveryFileMatchesWhatTheWriterWasGiven) {
  const nlohmann::json expected = io_test::load_json(dir() / "expected.json");
  for (const auto& [file, tensors] : expected.items()) {
    SCOPED_TRACE(file);
    const rr::Weights w = rr::Weights::open(dir() / file);
    ASSERT_EQ(w.size(), tensors.size());
    for (const auto& [name, e] : tensors.items()) {
      SCOPED_TRACE(name);
      const rr::WeightTensor& t = w.get(name);
      EXPECT_EQ(rr::weight_dtype_name(t.dtype), e["dtype"].get<std::string>());
      EXPECT_EQ(t.shape, e["shape"].get<std::vector<std::int64_t>>());
      EXPECT_EQ(hex_of(t.bytes), e["hex"].get<std::string>());
      EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.bytes.data()) %
                    std::max<std::size_t>(1, rr::weight_dtype_bits(t.dtype) / 8),
                0u);
      if (!e.contains("f32_bits")) continue;
      const std::vector<float> values = t.to_f32();
      const auto bits = e["f32_bits"].get<std::vector<std::uint32_t>>();
      ASSERT_EQ(values.size(), bits.size());
      for (std::size_t i = 0; i < bits.size(); ++i) {
        const float want = std::bit_cast<float>(bits[i]);
        if (std::isnan(want))
          EXPECT_TRUE(std::isnan(values[i])) << i;
        else
          EXPECT_EQ(std::bit_cast<std::uint32_t>(values[i]), bits[i])
              << i << ": " << values[i] << " vs " << want;
      }
    }
  }
}

TEST_F(RealWriter, TensorsAreViewsOfTheMappedFile) {
  // Zero-copy: consecutive tensors in the file are consecutive in memory.
  const rr::Weights w = rr::Weights::open(dir() / "numpy_dtypes.safetensors");
  std::vector<const rr::WeightTensor*> tensors;
  for (const std::string& name : w.names()) tensors.push_back(&w.get(name));
  std::sort(tensors.begin(), tensors.end(),
            [](auto* a, auto* b) { return a->bytes.data() < b->bytes.data(); });
  for (std::size_t i = 0; i + 1 < tensors.size(); ++i)
    EXPECT_EQ(tensors[i]->bytes.data() + tensors[i]->bytes.size(), tensors[i + 1]->bytes.data())
        << tensors[i]->name << " -> " << tensors[i + 1]->name;
  EXPECT_EQ(w.get("f32").f32().data(), reinterpret_cast<const float*>(w.get("f32").bytes.data()));
}

TEST_F(RealWriter, MetadataIsKept) {
  const rr::Weights w = rr::Weights::open(dir() / "metadata.safetensors");
  ASSERT_EQ(w.metadata().size(), 2u);
  EXPECT_EQ(w.metadata().at("format"), "pt");
  EXPECT_EQ(w.metadata().at("note"), "caf\xc3\xa9");
  EXPECT_TRUE(rr::Weights::open(dir() / "numpy_dtypes.safetensors").metadata().empty());
}

TEST_F(RealWriter, CopiesKeepTheFileMapped) {
  rr::WeightTensor tensor;
  rr::Weights copy;
  {
    const rr::Weights original = rr::Weights::open(dir() / "metadata.safetensors");
    copy = original;
    tensor = original.get("w");
  }
  const std::vector<float> values = copy.get("w").to_f32();
  EXPECT_EQ(values, (std::vector<float>{0, 1, 2, 3}));
  EXPECT_EQ(tensor.bytes.data(), copy.get("w").bytes.data());
}

TEST_F(RealWriter, ShardedCheckpointMergesShards) {
  const rr::Weights w = rr::Weights::open(dir() / "sharded/model.safetensors.index.json");
  EXPECT_EQ(w.names(), (std::vector<std::string>{"encoder.bias", "encoder.weight", "head.weight"}));
  EXPECT_EQ(w.metadata().at("format"), "pt");
}

TEST_F(RealWriter, ShardIndexProblemsNameTheTensorAndShard) {
  ScratchDir scratch;
  for (const auto& entry : std::filesystem::directory_iterator(dir() / "sharded"))
    std::filesystem::copy(entry.path(), scratch / entry.path().filename().string());
  const auto index = scratch / "model.safetensors.index.json";
  const auto with_map = [&](const std::string& map) {
    io_test::write_file(index, R"({"metadata": {}, "weight_map": )" + map + "}");
    return error_of([&] { rr::Weights::open(index); });
  };
  const std::string shard1 = "\"model-00001-of-00002.safetensors\"";
  const std::string shard2 = "\"model-00002-of-00002.safetensors\"";
  EXPECT_NE(with_map(R"({"encoder.bias": )" + shard1 + "}").find("'encoder.bias' in model-00001"),
            std::string::npos);
  EXPECT_NE(with_map(R"({"x": "../secret.safetensors"})").find("not a file name beside the index"),
            std::string::npos);
  EXPECT_NE(with_map(R"({"x": 3})").find("weight_map['x']"), std::string::npos);
  EXPECT_NE(with_map("[]").find("no 'weight_map'"), std::string::npos);
  // Two shards hold tensors of the same names.
  std::filesystem::copy_file(scratch / "model-00002-of-00002.safetensors",
                             scratch / "dup.safetensors");
  EXPECT_NE(with_map(R"({"encoder.bias": )" + shard2 + R"(, "head.weight": "dup.safetensors"})")
                .find("was already read from another shard"),
            std::string::npos);
  EXPECT_EQ(with_map(R"({"encoder.weight": )" + shard1 + R"(, "head.weight": )" + shard2 + "}"),
            "");
  io_test::write_file(index, "{not json");
  EXPECT_NE(error_of([&] { rr::Weights::open(index); }).find("malformed JSON"), std::string::npos);
}

TEST_F(RealWriter, DirectoryOpensItsCheckpoint) {
  ScratchDir scratch;
  std::filesystem::copy_file(dir() / "metadata.safetensors", scratch / "model.safetensors");
  EXPECT_EQ(rr::Weights::open(scratch.path()).names(), (std::vector<std::string>{"w"}));
  ScratchDir empty;
  EXPECT_NE(error_of([&] { rr::Weights::open(empty.path()); }).find("no checkpoint in directory"),
            std::string::npos);
}

TEST_F(RealWriter, EveryTruncationIsRefused) {
  const std::string bytes = io_test::read_file(dir() / "numpy_dtypes.safetensors");
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    const std::string prefix = bytes.substr(0, size);
    const std::span<const std::byte> view(reinterpret_cast<const std::byte*>(prefix.data()),
                                          prefix.size());
    EXPECT_NE(error_of([&] { rr::io::parse_safetensors(view, "cut"); }), "") << size;
  }
}

TEST_F(RealWriter, RandomCorruptionNeverCrashes) {
  const std::string bytes = io_test::read_file(dir() / "raw_dtypes.safetensors");
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 2000; ++trial) {
    std::string mutated = bytes;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      const std::size_t at = rng() % std::min<std::size_t>(mutated.size(), 200);
      mutated[at] = static_cast<char>(rng());
    }
    const std::span<const std::byte> view(reinterpret_cast<const std::byte*>(mutated.data()),
                                          mutated.size());
    try {
      rr::io::parse_safetensors(view, "mutated");
    } catch (const rr::Error&) {
    }
  }
}

TEST(Safetensors, MisalignedTensorsAreCopiedToAlignedMemory) {
  // A header length that is not a multiple of 8 puts the F32 data at an odd address.
  const std::string header = R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  ASSERT_NE(header.size() % 4, 0u);
  const float values[2] = {1.5f, -2.0f};
  ScratchDir dir;
  io_test::write_file(
      dir / "m.safetensors",
      safetensors_bytes(header, std::string(reinterpret_cast<const char*>(values), 8)));
  const rr::Weights w = rr::Weights::open(dir / "m.safetensors");
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(w.get("w").bytes.data()) % alignof(float), 0u);
  EXPECT_EQ(w.get("w").to_f32(), (std::vector<float>{1.5f, -2.0f}));
}

TEST(Safetensors, HostileHeadersAreRefusedWithTheirReason) {
  const auto tensor = [](const std::string& name, const std::string& dtype,
                         const std::string& shape, const std::string& offsets) {
    return "\"" + name + R"(":{"dtype":")" + dtype + R"(","shape":)" + shape +
           R"(,"data_offsets":)" + offsets + "}";
  };
  const std::string four(4, '\0');
  struct Case {
    std::string bytes;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"", "fewer than the 8-byte header length"},
      {"\x05\x00\x00", "fewer than the 8-byte header length"},
      {safetensors_bytes("{}", "").substr(0, 9), "runs past the end of the file"},
      {std::string("\xff\xff\xff\xff\xff\xff\xff\xff", 8) + "{}",
       "exceeds the 100000000-byte limit"},
      {safetensors_bytes("[1, 2]", ""), "header is an array, an object expected"},
      {safetensors_bytes("{\"a\":", ""), "malformed JSON"},
      {safetensors_bytes("{} x", ""), "malformed JSON"},
      {safetensors_bytes("{\"a\":\"\xff\"}", ""), "malformed JSON"},
      {safetensors_bytes("{" + tensor("a", "F32", "[1]", "[0,4]") + "," +
                             tensor("a", "F32", "[1]", "[4,8]") + "}",
                         four + four),
       "key 'a' appears twice"},
      {safetensors_bytes(R"({"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}})",
                         four),
       "key 'dtype' appears twice"},
      {safetensors_bytes("{" + tensor("a", "F128", "[1]", "[0,4]") + "}", four),
       "tensor 'a': unknown dtype 'F128'"},
      {safetensors_bytes("{" + tensor("a", "F32", "[-1]", "[0,4]") + "}", four),
       "tensor 'a': shape value -1 is negative"},
      {safetensors_bytes("{" + tensor("a", "F32", "[1.5]", "[0,4]") + "}", four),
       "tensor 'a': shape holds a number, a non-negative integer expected"},
      {safetensors_bytes("{" + tensor("a", "F32", "3", "[0,4]") + "}", four),
       "tensor 'a': 'shape' is an integer, an array expected"},
      {safetensors_bytes(R"({"a":{"dtype":"F32","shape":[1]}})", four),
       "tensor 'a': missing 'data_offsets'"},
      {safetensors_bytes(R"({"a":{"shape":[1],"data_offsets":[0,4]}})", four),
       "tensor 'a': missing 'dtype'"},
      {safetensors_bytes(R"({"a":[1]})", four), "tensor 'a': header entry is an array"},
      {safetensors_bytes("{" + tensor("a", "F32", "[1]", "[0,4,8]") + "}", four),
       "tensor 'a': 'data_offsets' must be"},
      {safetensors_bytes("{" + tensor("a", "F32", "[1]", "[4,0]") + "}", four),
       "tensor 'a': data_offsets [4, 0] end before"},
      {safetensors_bytes("{" + tensor("a", "F32", "[2]", "[0,4]") + "}", four),
       "tensor 'a': data_offsets [0, 4] span 4 bytes, but F32 [2] needs 8"},
      {safetensors_bytes("{" + tensor("a", "F32", "[1]", "[4,8]") + "}", four),
       "tensor 'a': data_offsets [4, 8] reach past the end of the data section (4 bytes)"},
      {safetensors_bytes("{" + tensor("a", "F32", "[2]", "[0,8]") + "," +
                             tensor("b", "F32", "[1]", "[4,8]") + "}",
                         four + four),
       "tensors 'a' and 'b' overlap"},
      {safetensors_bytes("{" + tensor("a", "F32", "[1]", "[0,4]") + "," +
                             tensor("b", "F32", "[1]", "[8,12]") + "}",
                         four + four + four),
       "bytes [4, 8) of the data section belong to no tensor (before tensor 'b')"},
      {safetensors_bytes("{" + tensor("a", "F32", "[1]", "[0,4]") + "}", four + four),
       "the data section has 8 bytes but the tensors cover 4"},
      {safetensors_bytes(
           "{" + tensor("a", "F32", "[4294967296,4294967296,4294967296]", "[0,4]") + "}", four),
       "tensor 'a': shape [4294967296, 4294967296, 4294967296] has too many elements"},
      {safetensors_bytes("{" + tensor("a", "F4", "[3]", "[0,1]") + "}", std::string(1, '\0')),
       "tensor 'a': shape [3] of F4 is not a whole number of bytes"},
      {safetensors_bytes(R"({"__metadata__":{"k":1}})", ""),
       "__metadata__['k'] is an integer, a string expected"},
      {safetensors_bytes(R"({"__metadata__":[]})", ""),
       "__metadata__ is an array, an object expected"},
  };
  for (const Case& c : cases) {
    const std::string message = open_error(c.bytes);
    EXPECT_NE(message.find(c.message), std::string::npos)
        << "expected: " << c.message << "\n got: " << message;
    EXPECT_NE(message.find("x.safetensors"), std::string::npos) << message;
  }
}

TEST(Safetensors, AcceptsWhatTheFormatAllows) {
  ScratchDir dir;
  // Zero-sized tensors, a scalar, sub-byte F4 with whole bytes, a null __metadata__ and padding.
  const std::string header =
      R"({"__metadata__":null,"e":{"dtype":"F16","shape":[0,3],"data_offsets":[0,0]},)"
      R"("s":{"dtype":"I32","shape":[],"data_offsets":[0,4]},)"
      R"("q":{"dtype":"F4","shape":[2,2],"data_offsets":[4,6]}}    )";
  const std::string data = std::string("\x07\x00\x00\x00", 4) + "\x12\x34";
  io_test::write_file(dir / "ok.safetensors", safetensors_bytes(header, data));
  const rr::Weights w = rr::Weights::open(dir / "ok.safetensors");
  EXPECT_EQ(w.get("e").numel(), 0u);
  EXPECT_TRUE(w.get("s").shape.empty());
  EXPECT_EQ(w.get("s").numel(), 1u);
  EXPECT_EQ(w.get("q").bytes.size(), 2u);
  EXPECT_EQ(rr::weight_dtype_bits(w.get("q").dtype), 4u);
}

TEST(Safetensors, FileSystemProblemsAreRuntimeErrors) {
  ScratchDir dir;
  EXPECT_NE(
      error_of([&] { rr::Weights::open(dir / "missing.safetensors"); }, rr::ErrorKind::runtime)
          .find("cannot open"),
      std::string::npos);
}

TEST(WeightsApi, AccessorsNameTheTensor) {
  ScratchDir dir;
  const std::string header = R"({"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]},)"
                             R"("i":{"dtype":"I64","shape":[1],"data_offsets":[4,12]}})";
  io_test::write_file(
      dir / "w.safetensors",
      safetensors_bytes(header, std::string("\x00\x3c\x00\xc0", 4) + std::string(8, '\0')));
  const rr::Weights w = rr::Weights::open(dir / "w.safetensors");
  EXPECT_EQ(w.names(), (std::vector<std::string>{"h", "i"}));
  EXPECT_TRUE(w.contains("h"));
  EXPECT_EQ(w.find("nope"), nullptr);
  EXPECT_NE(error_of([&] { w.get("nope"); }).find("tensor 'nope' not found in"), std::string::npos);
  const std::int64_t wrong[] = {3};
  EXPECT_NE(error_of([&] { w.get("h", wrong); }).find("tensor 'h': shape [2] found, [3] expected"),
            std::string::npos);
  const std::int64_t right[] = {2};
  EXPECT_EQ(w.get("h", right).to_f32(), (std::vector<float>{1.0f, -2.0f}));
  EXPECT_NE(error_of([&] { w.get("h").f32(); }).find("tensor 'h': dtype F16 found, F32 expected"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] { w.get("i").to_f32(); }).find("tensor 'i': dtype I64 cannot be converted"),
      std::string::npos);
  EXPECT_EQ(rr::Weights().size(), 0u);
}
