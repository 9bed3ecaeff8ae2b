// Compiled once per layering rule (CMakeLists.txt): includes the header
// KTSTR_PROBE_HEADER names, in a target that links only what the rule allows.
#include KTSTR_PROBE_HEADER

int ktstr_layering_probe() { return 0; }
