/* Many sections: per-function and per-datum sections (with -ffunction-sections -fdata-sections), named
   sections, thread-local data and bss, a COMDAT section group written in assembly, a section with the
   SHF_GNU_RETAIN flag, and an ifunc where the target supports it. */
__thread int tls_counter = 5;
__thread int tls_zero;
static __thread long tls_static;

__attribute__((section(".sieve.custom"))) int custom_data = 1;
__attribute__((section(".sieve.custom_text"))) int custom_text(int x) { return x * 3; }
__attribute__((section(".sieve.rodata"))) const char custom_ro[] = "named read-only";
__attribute__((used, retain)) static int kept_data = 17;
__attribute__((used)) static const int unused_but_kept = 99;

int tls_bump(int x) {
  tls_static += x;
  return ++tls_counter + tls_zero + (int)tls_static;
}

__asm__(".section .text.sieve_group,\"axG\",@progbits,sieve_group_key,comdat\n"
        ".globl sieve_group_key\n"
        ".type sieve_group_key,@function\n"
        "sieve_group_key:\n"
        ".long 0\n"
        ".size sieve_group_key, 4\n"
        ".section .data.sieve_group,\"awG\",@progbits,sieve_group_key,comdat\n"
        ".globl sieve_group_data\n"
        ".type sieve_group_data,@object\n"
        "sieve_group_data:\n"
        ".long 7\n"
        ".size sieve_group_data, 4\n"
        ".text\n");

static int f0(int x) { return x + 0; }
static int f1(int x) { return x + 1; }
static int f2(int x) { return x * 2; }
int data_array_0[3] = {1};
int data_array_1[3] = {2};
int bss_array_0[16];
int bss_array_1[16];

#if defined(__x86_64__) || defined(__i386__) || defined(__powerpc__)
static int plain_impl(int x) { return x + 100; }
static int (*resolve_dispatch(void))(int) { return plain_impl; }
int dispatch(int x) __attribute__((ifunc("resolve_dispatch")));
#define SIEVE_HAS_IFUNC 1
#endif

int sections_touch(void) {
  int (*volatile table[])(int) = {f0, f1, f2, custom_text};
  int sum = custom_data + custom_ro[0] + kept_data + data_array_0[0] + data_array_1[1] + bss_array_0[2] +
            bss_array_1[3];
  for (unsigned i = 0; i < sizeof table / sizeof table[0]; ++i) sum += table[i]((int)i);
#ifdef SIEVE_HAS_IFUNC
  sum += dispatch(1);
#endif
  return sum;
}
