// pytorch_model.bin reading: fixtures written by the real torch.save
// (scripts/make_torch_bin_fixtures.py), hand-made hostile pickles, truncation and corruption.
#include <gtest/gtest.h>

#include <bit>
#include <random>

#include "io/pickle_state_dict.hpp"
#include "io/zip_archive.hpp"
#include "io_test_support.hpp"
#include "rank_rerank/weights.hpp"

namespace rr = rank_rerank;
using io_test::error_of;
using io_test::ScratchDir;

namespace {

std::filesystem::path fixtures() { return io_test::source_dir() / "tests/fixtures/torch_bin"; }

std::span<const std::byte> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// Values of a tensor as doubles, in row-major order, for comparison with torch's tolist().
std::vector<double> values_of(const rr::WeightTensor& t) {
  std::vector<double> out;
  const std::size_t n = t.numel();
  const auto* p = t.bytes.data();
  for (std::size_t i = 0; i < n; ++i) {
    switch (t.dtype) {
      case rr::WeightDType::f32:
        out.push_back(reinterpret_cast<const float*>(p)[i]);
        break;
      case rr::WeightDType::f64:
        out.push_back(reinterpret_cast<const double*>(p)[i]);
        break;
      case rr::WeightDType::i32:
        out.push_back(reinterpret_cast<const std::int32_t*>(p)[i]);
        break;
      case rr::WeightDType::i16:
        out.push_back(reinterpret_cast<const std::int16_t*>(p)[i]);
        break;
      case rr::WeightDType::i8:
        out.push_back(reinterpret_cast<const std::int8_t*>(p)[i]);
        break;
      case rr::WeightDType::u8:
      case rr::WeightDType::boolean:
        out.push_back(reinterpret_cast<const std::uint8_t*>(p)[i]);
        break;
      case rr::WeightDType::f16:
      case rr::WeightDType::bf16:
        out.push_back(t.to_f32()[i]);
        break;
      default:
        ADD_FAILURE() << "unexpected dtype";
        break;
    }
  }
  return out;
}

// Pickle pieces. Built from parts rather than escaped literals: "\x00a" would be one character.
std::string byte(int v) { return std::string(1, static_cast<char>(v)); }
std::string unicode(const std::string& s) {
  std::string out = "X";
  for (int i = 0; i < 4; ++i) out += byte(static_cast<int>((s.size() >> (8 * i)) & 0xff));
  return out + s;
}
const std::string kProto2 = byte(0x80) + byte(2);

// A one-tensor state dict exactly as torch.save pickles it.
std::string minimal_pickle(const std::string& storage_global = "torch\nFloatStorage\n") {
  return kProto2 + "ccollections\nOrderedDict\nq" + byte(0) + ")Rq" + byte(1) + "(" + unicode("w") +
         "ctorch._utils\n_rebuild_tensor_v2\nq" + byte(2) + "((" + unicode("storage") + "c" +
         storage_global + unicode("0") + unicode("cpu") + "K" + byte(2) + "tQK" + byte(0) + "K" +
         byte(2) + byte(0x85) + "K" + byte(1) + byte(0x85) + byte(0x89) + "h" + byte(0) + ")Rtq" +
         byte(3) + "Ru.";
}

std::string pickle_error(const std::string& pickle) {
  return error_of([&] { rr::io::read_state_dict_pickle(as_bytes(pickle), "test.pkl"); });
}

}  // namespace

TEST(TorchBin, StateDictsMatchWhatTorchSaved) {
  const nlohmann::json expected = io_test::load_json(fixtures() / "expected.json");
  ASSERT_GE(expected["state_dicts"].size(), 8u);
  for (const auto& [file, tensors] : expected["state_dicts"].items()) {
    SCOPED_TRACE(file);
    const rr::Weights w = rr::Weights::open(fixtures() / file);
    ASSERT_EQ(w.size(), tensors.size());
    for (const auto& [name, e] : tensors.items()) {
      SCOPED_TRACE(name);
      const rr::WeightTensor& t = w.get(name);
      EXPECT_EQ(rr::weight_dtype_name(t.dtype), e["dtype"].get<std::string>());
      EXPECT_EQ(t.shape, e["shape"].get<std::vector<std::int64_t>>());
      EXPECT_EQ(t.bytes.size(), t.numel() * rr::weight_dtype_bits(t.dtype) / 8);
      if (t.dtype == rr::WeightDType::i64) {
        const auto* p = reinterpret_cast<const std::int64_t*>(t.bytes.data());
        EXPECT_EQ(std::vector<std::int64_t>(p, p + t.numel()),
                  e["values"].get<std::vector<std::int64_t>>());
      } else {
        EXPECT_EQ(values_of(t), e["values"].get<std::vector<double>>());
      }
    }
  }
}

TEST(TorchBin, ViewsOfOneStorageShareItsBytes) {
  const rr::Weights w = rr::Weights::open(fixtures() / "shared_storage.bin");
  // base[1] and base[2:4] of a [4, 6] float storage: zero-copy spans at their offsets.
  EXPECT_EQ(w.get("row1").bytes.data(), w.get("whole").bytes.data() + 6 * 4);
  EXPECT_EQ(w.get("rows2to3").bytes.data(), w.get("whole").bytes.data() + 12 * 4);
  // Strided views are copied out of the storage.
  const rr::Weights nc = rr::Weights::open(fixtures() / "non_contiguous.bin");
  EXPECT_EQ(nc.get("transposed").shape, (std::vector<std::int64_t>{5, 3}));
}

TEST(TorchBin, RefusedFilesSayWhy) {
  const nlohmann::json expected = io_test::load_json(fixtures() / "expected.json");
  for (const auto& [file, fragment] : expected["refused"].items()) {
    SCOPED_TRACE(file);
    std::string message;
    try {
      rr::Weights::open(fixtures() / file);
    } catch (const rr::Error& e) {
      message = e.what();
    }
    EXPECT_NE(message.find(fragment.get<std::string>()), std::string::npos) << message;
  }
}

TEST(TorchBin, EveryTruncationIsRefused) {
  const std::string bytes = io_test::read_file(fixtures() / "module_state_dict.bin");
  ScratchDir dir;
  for (std::size_t size = 0; size < bytes.size(); size += 7) {
    io_test::write_file(dir / "cut.bin", bytes.substr(0, size));
    try {
      rr::Weights::open(dir / "cut.bin");
      ADD_FAILURE() << "a file cut to " << size << " bytes was accepted";
    } catch (const rr::Error&) {
    }
  }
}

TEST(TorchBin, RandomCorruptionNeverCrashes) {
  const std::string bytes = io_test::read_file(fixtures() / "shared_storage.bin");
  ScratchDir dir;
  std::mt19937 rng(99);
  for (int trial = 0; trial < 400; ++trial) {
    std::string mutated = bytes;
    for (int f = 0; f < 3; ++f) mutated[rng() % mutated.size()] = static_cast<char>(rng());
    io_test::write_file(dir / "m.bin", mutated);
    try {
      const rr::Weights w = rr::Weights::open(dir / "m.bin");
      for (const std::string& name : w.names())
        EXPECT_EQ(w.get(name).bytes.size(), w.get(name).numel() * 4);
    } catch (const rr::Error&) {
    }
  }
}

TEST(TorchBin, NotAZipArchive) {
  ScratchDir dir;
  io_test::write_file(dir / "x.bin", "hello world, not a checkpoint");
  EXPECT_NE(error_of([&] { rr::Weights::open(dir / "x.bin"); }).find("not a zip archive"),
            std::string::npos);
  io_test::write_file(dir / "y.bin", std::string("PK\x03\x04", 4) + std::string(40, 'x'));
  EXPECT_NE(error_of([&] { rr::Weights::open(dir / "y.bin"); }).find("no end-of-central-directory"),
            std::string::npos);
}

TEST(TorchPickle, MinimalStateDictReads) {
  const auto tensors = rr::io::read_state_dict_pickle(as_bytes(minimal_pickle()), "test.pkl");
  ASSERT_EQ(tensors.size(), 1u);
  EXPECT_EQ(tensors[0].name, "w");
  EXPECT_EQ(tensors[0].storage_key, "0");
  EXPECT_EQ(tensors[0].storage_numel, 2u);
  EXPECT_EQ(tensors[0].shape, (std::vector<std::int64_t>{2}));
  EXPECT_EQ(tensors[0].dtype, rr::WeightDType::f32);
}

TEST(TorchPickle, DisallowedContentNamesTheOpcodeOrGlobal) {
  EXPECT_NE(
      pickle_error(kProto2 + "cbuiltins\neval\n.").find("global 'builtins.eval' is not allowed"),
      std::string::npos);
  EXPECT_NE(
      pickle_error(minimal_pickle("torch\nUntypedStorage\n")).find("global 'torch.UntypedStorage'"),
      std::string::npos);
  EXPECT_NE(pickle_error(kProto2 + "(cos\nsystem\n" + unicode("ls") + "i.")
                .find("'os.system' is not allowed"),
            std::string::npos);
  EXPECT_NE(pickle_error(kProto2 + "(" + unicode("ls") + "o.").find("OBJ (0x6f) is not accepted"),
            std::string::npos);
  EXPECT_NE(pickle_error(kProto2 + byte(0x81) + ".").find("NEWOBJ (0x81) is not accepted"),
            std::string::npos);
  EXPECT_NE(pickle_error(kProto2 + byte(0xff) + ".").find("unknown opcode 0xff"),
            std::string::npos);
  EXPECT_NE(pickle_error(byte(0x80) + byte(1) + "}.").find("pickle protocol 1"), std::string::npos);
  EXPECT_NE(pickle_error(kProto2 + "C" + byte(1) + "x.").find("SHORT_BINBYTES"), std::string::npos);
  // A tuple is not callable: REDUCE only calls the allowed functions.
  EXPECT_NE(pickle_error(kProto2 + "))R.").find("REDUCE calls a value of type tuple"),
            std::string::npos);
  EXPECT_NE(pickle_error(kProto2 + "ccollections\nOrderedDict\nK" + byte(1) + byte(0x85) + "R.")
                .find("called with arguments"),
            std::string::npos);
}

TEST(TorchPickle, MalformedPicklesAreRefusedWithoutCrashing) {
  EXPECT_NE(pickle_error("").find("without STOP"), std::string::npos);
  EXPECT_NE(pickle_error(kProto2 + "}").find("without STOP"), std::string::npos);
  EXPECT_NE(pickle_error(kProto2 + ".").find("on an empty stack"), std::string::npos);
  EXPECT_NE(pickle_error(kProto2 + "t.").find("without a MARK"), std::string::npos);
  EXPECT_NE(pickle_error(kProto2 + "h" + byte(7) + ".").find("memo entry 7 was never stored"),
            std::string::npos);
  EXPECT_NE(pickle_error(kProto2 + "X" + byte(0xff) + byte(0) + byte(0) + byte(0) + "ab.")
                .find("ends in the middle of BINUNICODE"),
            std::string::npos);
  EXPECT_NE(pickle_error(kProto2 + unicode(byte(0xc3) + "(") + ".").find("not valid UTF-8"),
            std::string::npos);
  EXPECT_NE(pickle_error(kProto2 + byte(0x8a) + byte(9) + std::string(9, '\x01') + ".")
                .find("LONG1 of 9 bytes"),
            std::string::npos);
  EXPECT_NE(pickle_error(kProto2 + "(K" + byte(1) + ".").find("STOP inside an open MARK"),
            std::string::npos);
  EXPECT_NE(
      pickle_error(kProto2 + "]q" + byte(0) + "h" + byte(0) + "a.").find("cannot contain itself"),
      std::string::npos);
  // A list nested into another may not change afterwards: that is how cycles would be built.
  EXPECT_NE(pickle_error(kProto2 + "]q" + byte(0) + "]h" + byte(0) + "ah" + byte(0) + "K" +
                         byte(1) + "a.")
                .find("already nested"),
            std::string::npos);
  std::string deep = kProto2;
  for (int i = 0; i < 200; ++i) deep += "]";
  for (int i = 0; i < 199; ++i) deep += "a";
  EXPECT_NE(pickle_error(deep + ".").find("nest deeper than 64"), std::string::npos);
  EXPECT_NE(pickle_error(kProto2 + "K" + byte(1) + ".").find("holds a value of type int"),
            std::string::npos);
  EXPECT_NE(pickle_error(kProto2 + "}K" + byte(1) + "K" + byte(2) + "s.")
                .find("state dict key is of type int"),
            std::string::npos);
  EXPECT_NE(pickle_error(kProto2 + "}(" + unicode("a") + "K" + byte(1) + unicode("a") + "K" +
                         byte(2) + "u.")
                .find("entry 'a' is of type int"),
            std::string::npos);
}

TEST(TorchPickle, TensorArgumentsAreChecked) {
  std::string bad_stride = minimal_pickle();
  const std::size_t stride = bad_stride.find("K" + byte(1) + byte(0x85) + byte(0x89));
  ASSERT_NE(stride, std::string::npos);
  bad_stride.replace(stride, 3, "K" + byte(1) + "K" + byte(1) + byte(0x86));
  EXPECT_NE(pickle_error(bad_stride).find("size has 1 dimensions but stride 2"), std::string::npos);
  std::string negative_numel = minimal_pickle();
  negative_numel.replace(negative_numel.find("K" + byte(2) + "tQ"), 2,
                         "J" + std::string(4, '\xff'));
  EXPECT_NE(pickle_error(negative_numel).find("numel is negative"), std::string::npos);
}

TEST(TorchZip, ChecksStorageSizesAndViewBounds) {
  // Rewrite the pickle of a real archive in place (same length) to lie about sizes.
  const std::string bytes = io_test::read_file(fixtures() / "bf16.bin");
  const rr::io::ZipArchive zip(as_bytes(bytes), "bf16.bin");
  const rr::io::ZipEntry* pickle = zip.find("bf16/data.pkl");
  ASSERT_NE(pickle, nullptr);
  const std::string original(bytes.substr(pickle->data_offset, pickle->size));
  ScratchDir dir;
  const auto patched_error = [&](const std::string& from, const std::string& to) {
    std::string p = original;
    const std::size_t at = p.find(from);
    EXPECT_NE(at, std::string::npos) << "pattern not in the pickle";
    if (at == std::string::npos) return std::string();
    p.replace(at, from.size(), to);
    std::string file = bytes;
    file.replace(pickle->data_offset, pickle->size, p);
    io_test::write_file(dir / "p.bin", file);
    return error_of([&] { rr::Weights::open(dir / "p.bin"); });
  };
  // Storage numel 10 -> 11: the entry has 20 bytes, not 22.
  EXPECT_NE(patched_error("cpuq" + byte(6) + "K" + byte(10), "cpuq" + byte(6) + "K" + byte(11))
                .find("declares 11 BF16 elements (22 bytes) but its entry has 20"),
            std::string::npos);
  // Offset 0 -> 1: the [2, 5] view now reaches element 10 of 10.
  EXPECT_NE(
      patched_error("QK" + byte(0), "QK" + byte(1)).find("reaches element 10 of a storage of 10"),
      std::string::npos);
  // Storage key "0" -> "9": no such entry.
  EXPECT_NE(patched_error(unicode("0"), unicode("9")).find("has no entry bf16/data/9"),
            std::string::npos);
}
