// A program whose library lies in an absolute run path, as a test program
// built against a ktstr install prefix (library_closure_test.cpp).
int ktstr_runpath_lib_value();
int main() { return ktstr_runpath_lib_value() == 42 ? 0 : 1; }
