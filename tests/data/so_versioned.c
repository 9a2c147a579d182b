/* Symbol versions for the shared library (linked with versions.map): a default version (name@@VERS_2), an
   older hidden one (name@VERS_1) and a symbol bound to the base version. */
__attribute__((symver("api_call@VERS_1"))) int api_call_v1(int x) { return x; }
__attribute__((symver("api_call@@VERS_2"))) int api_call_v2(int x) { return x * 2; }
int api_plain(int x) { return x + 5; }
int api_data_v2 = 4;
