/* Symbol kinds nm and readelf classify differently: static and global functions, initialised and zero data,
   read-only data, string literals, common symbols, weak definitions and references, hidden and protected
   visibility, aliases and absolute symbols. */
int global_counter = 42;
int zero_counter;
static int static_counter = 7;
static int static_zero;
const int const_table[4] = {1, 2, 3, 5};
static const char static_message[] = "a local read-only message";
const char *const message_ptr = "string literal in .rodata.str";
__attribute__((common)) int common_small;
__attribute__((common)) char common_buffer[256];
__attribute__((weak)) int weak_data = 3;
__attribute__((visibility("hidden"))) int hidden_data = 9;
__attribute__((visibility("protected"))) int protected_data = 11;
extern int maybe_missing(void) __attribute__((weak));
extern int maybe_missing_data __attribute__((weak));

static int square(int x) { return x * x; }
__attribute__((noinline)) static int cube(int x) { return x * square(x); }

__attribute__((weak)) int weak_hook(int x) { return x + 1; }
int strong_function(int x) { return cube(x) + static_counter + static_zero; }
int alias_of_strong(int) __attribute__((alias("strong_function")));
int weak_alias_of_strong(int) __attribute__((weak, alias("strong_function")));
__attribute__((visibility("hidden"))) int hidden_function(int x) { return x - hidden_data; }

__asm__(".globl absolute_marker\n.set absolute_marker, 0x1234\n"
        ".local local_absolute\n.set local_absolute, 0x42\n"
        ".weak weak_undefined_object\n.type weak_undefined_object, @object\n");
extern int weak_undefined_object __attribute__((weak));

int weak_user(void) {
  int r = weak_hook(1) + (maybe_missing ? maybe_missing() : 0);
  if (&maybe_missing_data != 0) r += maybe_missing_data;
  if (&weak_undefined_object != 0) r += weak_undefined_object;
  return r + message_ptr[0] + static_message[1];
}

int sieve_total(int n) {
  static int calls; /* a function-local static: nm shows it as calls.0 */
  ++calls;
  return strong_function(n) + global_counter + zero_counter + const_table[n & 3] + common_small +
         common_buffer[n & 255] + weak_data + protected_data + hidden_function(n) + calls;
}
