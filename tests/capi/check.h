/* File: tests/capi/check.h
 *
 * A minimal check harness for the C ABI's C99 test programs: each failed
 * check prints where and why and counts; the program exits non-zero when any
 * failed. */
#ifndef SMGCORE_TESTS_CAPI_CHECK_H_
#define SMGCORE_TESTS_CAPI_CHECK_H_

#include <stdio.h>
#include <string.h>

#include "smgcore/smgcore_c.h"

#if defined(__GNUC__) || defined(__clang__)
#define CHECK_MAYBE_UNUSED __attribute__((unused))
#else
#define CHECK_MAYBE_UNUSED
#endif

static int check_failures = 0;

#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond)) {                                                               \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
      check_failures++;                                                          \
    }                                                                            \
  } while (0)

#define CHECK_CODE(expr, expected)                                               \
  do {                                                                           \
    smg_code_t check_code_ = (expr);                                             \
    if (check_code_ != (expected)) {                                             \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s\n", __FILE__, __LINE__, \
              #expr, smg_code_name(check_code_), smg_code_name(expected));       \
      check_failures++;                                                          \
    }                                                                            \
  } while (0)

#define CHECK_OK(expr) CHECK_CODE(expr, SMG_OK)

/* True when `s` holds exactly the bytes of the C string `expected`. */
CHECK_MAYBE_UNUSED static int str_eq(smg_str_t s, const char* expected) {
  size_t n = strlen(expected);
  return s.len == n && (n == 0 || memcmp(s.data, expected, n) == 0);
}

/* True when `haystack` (len bytes) contains the C string `needle`. */
CHECK_MAYBE_UNUSED static int contains(const char* haystack, size_t len, const char* needle) {
  size_t n = strlen(needle);
  size_t i;
  if (n > len) return 0;
  for (i = 0; i + n <= len; ++i) {
    if (memcmp(haystack + i, needle, n) == 0) return 1;
  }
  return 0;
}

/* Ends a test program. */
static int check_finish(const char* name) {
  if (check_failures != 0) {
    fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
    return 1;
  }
  printf("%s: all checks passed\n", name);
  return 0;
}

#endif /* SMGCORE_TESTS_CAPI_CHECK_H_ */
