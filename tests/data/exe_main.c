/* Entry point of the differential-test executable; the other sources hang off it. */
extern int sieve_total(int);
extern int tls_bump(int);
extern int sections_touch(void);
extern int weak_user(void);

int main(int argc, char **argv) {
  (void)argv;
  return sieve_total(argc) + tls_bump(argc) + sections_touch() + weak_user();
}
