// A library found through an absolute DT_RUNPATH (library_closure_test.cpp).
int ktstr_runpath_lib_value() { return 42; }
