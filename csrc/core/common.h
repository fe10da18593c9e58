// Core types shared by every layer of csrc/: devices, dtypes, the View that kernels entries
// receive (pointer + dtype + device + shape), and the exceptions that the bindings turn into
// Python ValueError / TypeError / RuntimeError. No Python types appear here.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

// FASTNN_CHECK(cond, ValueError, "a message " << with << " streamed values")
#define FASTNN_CHECK(cond, ExcType, msg)  \
  do {                                    \
    if (!(cond)) {                        \
      std::ostringstream fastnn_os_;      \
      fastnn_os_ << msg;                  \
      throw ::fastnn::ExcType(fastnn_os_.str()); \
    }                                     \
  } while (0)

namespace fastnn {

enum class Device : int { CPU = 0, CUDA = 1 };
enum class DType : int { F32 = 0, I64 = 1 };

inline const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }
inline const char* dtype_name(DType t) { return t == DType::F32 ? "float32" : "int64"; }
inline int64_t dtype_size(DType t) { return t == DType::F32 ? 4 : 8; }

// Python ValueError (pybind11 maps std::invalid_argument to it).
struct ValueError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};
// Python TypeError (translator registered in bindings/module.cpp).
struct TypeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Python RuntimeError.
struct RuntimeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr int kMaxDims = 8;
using Shape = std::vector<int64_t>;

inline std::string shape_str(const int64_t* s, int ndim) {
  std::ostringstream os;
  os << "(";
  for (int i = 0; i < ndim; ++i) os << (i ? ", " : "") << s[i];
  if (ndim == 1) os << ",";
  os << ")";
  return os.str();
}
inline std::string shape_str(const Shape& s) { return shape_str(s.data(), (int)s.size()); }

// Sizes that come from the caller (shapes, counts, strides) are combined with overflow checks: a
// product or sum that does not fit in int64 is a ValueError naming `what`, never a wrapped small
// number that then passes a size check.
inline int64_t checked_mul(int64_t a, int64_t b, const char* what) {
  int64_t r;
  FASTNN_CHECK(!__builtin_mul_overflow(a, b, &r), ValueError,
               what << ": " << a << " * " << b << " overflows a 64-bit size");
  return r;
}
inline int64_t checked_add(int64_t a, int64_t b, const char* what) {
  int64_t r;
  FASTNN_CHECK(!__builtin_add_overflow(a, b, &r), ValueError,
               what << ": " << a << " + " << b << " overflows a 64-bit size");
  return r;
}
inline int64_t checked_product(std::initializer_list<int64_t> factors, const char* what) {
  int64_t n = 1;
  for (int64_t f : factors) n = checked_mul(n, f, what);
  return n;
}

// The element count of a shape; ValueError for a negative dimension or a count beyond int64.
inline int64_t numel_of(const Shape& s) {
  int64_t n = 1;
  for (auto d : s) {
    FASTNN_CHECK(d >= 0, ValueError, "shape " << shape_str(s) << " has a negative dimension");
    FASTNN_CHECK(!__builtin_mul_overflow(n, d, &n), ValueError,
                 "shape " << shape_str(s) << " has more elements than a 64-bit size can count");
  }
  return n;
}

// A contiguous array as kernels' entries see it. Non-owning: the bindings keep the owner alive.
struct View {
  void* data = nullptr;
  DType dtype = DType::F32;
  Device device = Device::CPU;
  Shape shape;

  int ndim() const { return (int)shape.size(); }
  int64_t numel() const { return numel_of(shape); }
  int64_t dim(int i) const { return shape[i < 0 ? i + ndim() : i]; }
  float* f32() const { return static_cast<float*>(data); }
  int64_t* i64() const { return static_cast<int64_t*>(data); }
  std::string shape_str() const { return fastnn::shape_str(shape); }
};

}  // namespace fastnn

// Marks a CPU function for run-time selection among AVX-512, AVX2+FMA and portable clones
// (GCC ifunc resolved from CPUID at load time). Use it on leaf loops, not on OpenMP regions.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__CUDACC__)
#define FASTNN_SIMD __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FASTNN_SIMD
#endif
