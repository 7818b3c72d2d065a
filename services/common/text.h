// Unicode text handling for Vietnamese (ICU underneath): validation, NFC
// normalisation and accent-insensitive folding for search and duplicates.
#ifndef RECEPTION_SERVICES_COMMON_TEXT_H_
#define RECEPTION_SERVICES_COMMON_TEXT_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/string_view.h"

namespace reception {

// True when `text` is well-formed UTF-8.
bool IsValidUtf8(absl::string_view text);

// True when `text` has a C0/C1 control character other than tab and newline.
bool HasControlCharacters(absl::string_view text, bool allow_newlines);

// What intake checks of every text field, in one pass (ASCII runs take a
// fast path): whether it is valid UTF-8 (when not, the rest stops where it
// broke), whether it has a control character (as HasControlCharacters), and
// its code points.
struct TextScan {
  bool valid_utf8 = true;
  bool control = false;
  size_t code_points = 0;
};
TextScan ScanText(absl::string_view text, bool allow_newlines);

// The largest signed minutes (biên bản) text a case accepts, in bytes; the
// media service refuses an edit that would render longer.
inline constexpr size_t kMaxMinutesBytes = 65536;

// Number of Unicode code points (text must be valid UTF-8).
size_t CodePointCount(absl::string_view text);

// Number of visible characters: code points that are neither white space
// (any Unicode Z category, e.g. the ideographic space), control, format
// (e.g. the zero-width space) nor unassigned (ICU u_isgraph).
size_t VisibleCharCount(absl::string_view text);

// At most `max_bytes` of valid UTF-8 `text`, cut at a character boundary.
std::string TruncateUtf8(absl::string_view text, size_t max_bytes);

// Unicode NFC of valid UTF-8 text.
std::string NormalizeNfc(absl::string_view text);

// Upper case under Vietnamese rules (ICU), in NFC: "Phường Hải Châu" ->
// "PHƯỜNG HẢI CHÂU".
std::string UpperCaseVi(absl::string_view text);

// Folds text for matching: diacritics removed (đ -> d), lowercase,
// punctuation turned into spaces, runs of spaces collapsed.
// "Nguyễn Văn An" -> "nguyen van an". Thread-safe.
std::string FoldForSearch(absl::string_view text);

// Splits folded text on spaces.
std::vector<std::string> Tokens(absl::string_view folded);

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_TEXT_H_
