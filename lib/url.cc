#include "url.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace smg {

absl::StatusOr<std::string> HostOfUrl(absl::string_view url) {
  auto invalid = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("invalid worker URL \"", absl::CHexEscape(url),
                                                   "\": ", why));
  };
  if (url.empty()) return absl::InvalidArgumentError("invalid worker URL: empty");
  if (url.size() > 4096) return invalid("longer than 4096 bytes");
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) return invalid("contains whitespace or a control byte");
  }
  const size_t scheme_end = url.find("://");
  if (scheme_end == absl::string_view::npos || scheme_end == 0) {
    return invalid("expected scheme://host[:port]");
  }
  absl::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (const size_t at = rest.rfind('@'); at != absl::string_view::npos) rest = rest.substr(at + 1);
  absl::string_view host;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == absl::string_view::npos) return invalid("unterminated IPv6 literal");
    host = rest.substr(1, close - 1);
  } else {
    host = rest.substr(0, rest.find(':'));
  }
  if (host.empty()) return invalid("empty host");
  return std::string(host);
}

}  // namespace smg
