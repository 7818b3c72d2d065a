#include "services/common/text.h"

#include <memory>

#include "absl/strings/str_split.h"
#include "unicode/normalizer2.h"
#include "unicode/translit.h"
#include "unicode/uchar.h"
#include "unicode/unistr.h"
#include "unicode/utf8.h"

namespace reception {
namespace {

// A transliterator per thread: ICU transliterators are not thread-safe.
icu::Transliterator& Folder() {
  thread_local std::unique_ptr<icu::Transliterator> folder = [] {
    UErrorCode status = U_ZERO_ERROR;
    UParseError parse_error;
    // Latin-ASCII maps đ/Đ to d/D, which decomposition alone does not.
    std::unique_ptr<icu::Transliterator> t(icu::Transliterator::createFromRules(
        "reception-fold",
        icu::UnicodeString::fromUTF8(
            ":: NFD; :: [:Nonspacing Mark:] Remove; :: NFC; :: Latin-ASCII; :: Lower;"),
        UTRANS_FORWARD, parse_error, status));
    if (U_FAILURE(status)) std::abort();
    return t;
  }();
  return *folder;
}

}  // namespace

bool IsValidUtf8(absl::string_view text) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < length) {
    UChar32 c;
    U8_NEXT(s, i, length, c);
    if (c < 0) return false;
  }
  return true;
}

bool HasControlCharacters(absl::string_view text, bool allow_newlines) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < length) {
    UChar32 c;
    U8_NEXT(s, i, length, c);
    if (c < 0) return true;
    if (allow_newlines && (c == '\n' || c == '\t' || c == '\r')) continue;
    if (u_charType(c) == U_CONTROL_CHAR) return true;
  }
  return false;
}

size_t CodePointCount(absl::string_view text) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  size_t n = 0;
  while (i < length) {
    UChar32 c;
    U8_NEXT(s, i, length, c);
    ++n;
  }
  return n;
}

std::string NormalizeNfc(absl::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) return std::string(text);
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  if (nfc->isNormalized(u, status) && U_SUCCESS(status)) return std::string(text);
  status = U_ZERO_ERROR;
  icu::UnicodeString out = nfc->normalize(u, status);
  if (U_FAILURE(status)) return std::string(text);
  std::string result;
  out.toUTF8String(result);
  return result;
}

std::string FoldForSearch(absl::string_view text) {
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  Folder().transliterate(u);
  std::string folded;
  u.toUTF8String(folded);
  // Keep letters and digits; everything else separates words.
  std::string out;
  out.reserve(folded.size());
  bool space = true;
  for (unsigned char c : folded) {
    const bool word = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
    if (word) {
      out.push_back(static_cast<char>(c));
      space = false;
    } else if (!space) {
      out.push_back(' ');
      space = true;
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::vector<std::string> Tokens(absl::string_view folded) {
  return absl::StrSplit(folded, ' ', absl::SkipEmpty());
}

}  // namespace reception
