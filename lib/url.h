// URL helpers for worker registration.
#ifndef SMGCORE_LIB_URL_H_
#define SMGCORE_LIB_URL_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace smg {

// HostOfUrl()
//
// The host part of an absolute URL: "http://10.0.0.7:30000/v1" -> "10.0.0.7",
// "http://[::1]:8000" -> "::1", "grpc://prefill-0.svc" -> "prefill-0.svc".
// InvalidArgument when there is no "scheme://", the host is empty, the URL
// holds whitespace or control bytes, or an IPv6 literal is unterminated.
absl::StatusOr<std::string> HostOfUrl(absl::string_view url);

}  // namespace smg

#endif  // SMGCORE_LIB_URL_H_
