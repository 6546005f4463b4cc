// SPDX-License-Identifier: Apache-2.0
// ThreadSanitizer's defaults for the test binaries of the `tsan` preset: tests that fork a
// supervisor from a process that already runs threads (gtest's, an earlier test's hasher) and
// start the relay's hasher in it. The sanitizer refuses threads after such a fork unless told.
extern "C" const char* __tsan_default_options() { return "die_after_fork=0"; }
