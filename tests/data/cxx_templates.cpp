// C++: COMDAT section groups from inline functions and templates, STB_GNU_UNIQUE from inline statics,
// vtables and typeinfo (weak V), mangled names, and exception tables.
#include <cstddef>

namespace sieve {
template <class T>
struct box {
  T value;
  T get() const { return value; }
};

inline int &unique_counter() {
  static int counter = 0;  // STB_GNU_UNIQUE: nm shows 'u'
  return counter;
}

struct shape {
  virtual ~shape() = default;
  virtual int area() const = 0;
};
struct square final : shape {
  int side;
  explicit square(int s) : side(s) {}
  int area() const override { return side * side; }
};

template <class T>
T twice(T x) {
  return x + x;
}
template int twice<int>(int);
template long twice<long>(long);
}  // namespace sieve

extern "C" int cxx_entry(int n) {
  sieve::box<int> b{n};
  sieve::square s(n);
  const sieve::shape &sh = s;
  ++sieve::unique_counter();
  try {
    if (n < 0) throw n;
  } catch (int e) {
    return e;
  }
  return b.get() + sh.area() + sieve::twice(n) + sieve::unique_counter();
}
