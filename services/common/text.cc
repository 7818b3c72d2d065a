#include "services/common/text.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_split.h"
#include "unicode/bytestream.h"
#include "unicode/locid.h"
#include "unicode/normalizer2.h"
#include "unicode/uchar.h"
#include "unicode/unistr.h"
#include "unicode/utf8.h"

namespace reception {

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

TextScan ScanText(absl::string_view text, bool allow_newlines) {
  TextScan out;
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < length) {
    const uint8_t b = s[i];
    if (b < 0x80) {
      ++i;
      ++out.code_points;
      if ((b < 0x20 || b == 0x7f) && !(allow_newlines && (b == '\n' || b == '\t' || b == '\r'))) {
        out.control = true;
      }
      continue;
    }
    UChar32 c;
    U8_NEXT(s, i, length, c);
    if (c < 0) {
      out.valid_utf8 = false;
      return out;
    }
    ++out.code_points;
    if (u_charType(c) == U_CONTROL_CHAR) out.control = true;
  }
  return out;
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
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f) return true;
      continue;
    }
    if (u_charType(c) == U_CONTROL_CHAR) return true;
  }
  return false;
}

namespace {
// Code points of valid UTF-8 `text` for which `keep` holds.
template <typename Keep>
size_t CountCodePoints(absl::string_view text, Keep keep) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  size_t n = 0;
  while (i < length) {
    UChar32 c;
    U8_NEXT(s, i, length, c);
    if (keep(c)) ++n;
  }
  return n;
}
}  // namespace

size_t VisibleCharCount(absl::string_view text) {
  return CountCodePoints(text, [](UChar32 c) { return c >= 0 && u_isgraph(c); });
}

size_t CodePointCount(absl::string_view text) {
  return CountCodePoints(text, [](UChar32) { return true; });
}

std::string UpperCaseVi(absl::string_view text) {
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  u.toUpper(icu::Locale("vi"));
  std::string out;
  u.toUTF8String(out);
  return NormalizeNfc(out);
}

std::string NormalizeNfc(absl::string_view text) {
  // ASCII is in NFC already (references, codes, much of every form).
  if (std::all_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x80; })) {
    return std::string(text);
  }
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_FAILURE(status)) return std::string(text);
  // On the UTF-8 itself: no conversion to UTF-16 and back.
  const icu::StringPiece piece(text.data(), static_cast<int32_t>(text.size()));
  if (nfc->isNormalizedUTF8(piece, status) && U_SUCCESS(status)) return std::string(text);
  status = U_ZERO_ERROR;
  std::string out;
  icu::StringByteSink<std::string> sink(&out, static_cast<int32_t>(text.size()));
  nfc->normalizeUTF8(0, piece, sink, nullptr, status);
  if (U_FAILURE(status)) return std::string(text);
  return out;
}

namespace {

// Appends the folded form of one code point (already decomposed).
inline void AppendFolded(UChar32 c, std::string* out, bool* space) {
  if (c < 0x80) {
    const char ch = static_cast<char>(c);
    if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
      out->push_back(ch);
      *space = false;
    } else if (ch >= 'A' && ch <= 'Z') {
      out->push_back(static_cast<char>(ch - 'A' + 'a'));
      *space = false;
    } else if (!*space) {
      out->push_back(' ');
      *space = true;
    }
    return;
  }
  if (u_charType(c) == U_NON_SPACING_MARK) return;
  if (c == 0x0110 || c == 0x0111) c = 'd';  // Đ, đ have no decomposition
  c = u_tolower(c);
  if (u_isalnum(c)) {
    char buf[U8_MAX_LENGTH];
    int32_t len = 0;
    U8_APPEND_UNSAFE(buf, len, c);
    out->append(buf, len);
    *space = false;
  } else if (!*space) {
    out->push_back(' ');
    *space = true;
  }
}

}  // namespace

std::string FoldForSearch(absl::string_view text) {
  // Each non-ASCII code point is replaced by its canonical decomposition
  // (NFD: "ễ" -> e + circumflex + tilde), non-spacing marks are dropped and
  // the rest lowercased; ASCII, most of Vietnamese text, takes a fast path.
  // Every property comes from ICU's data.
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(status);
  std::string out;
  out.reserve(text.size());
  bool space = true;
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(text.size());
  icu::UnicodeString decomposition;
  for (int32_t i = 0; i < length;) {
    UChar32 c;
    U8_NEXT(s, i, length, c);
    if (c < 0) c = 0xFFFD;
    if (c >= 0x80 && U_SUCCESS(status) && nfd->getDecomposition(c, decomposition)) {
      for (int32_t j = 0; j < decomposition.length();) {
        const UChar32 d = decomposition.char32At(j);
        j += U16_LENGTH(d);
        AppendFolded(d, &out, &space);
      }
    } else {
      AppendFolded(c, &out, &space);
    }
  }
  if (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::vector<std::string> Tokens(absl::string_view folded) {
  return absl::StrSplit(folded, ' ', absl::SkipEmpty());
}

std::string TruncateUtf8(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  int32_t end = static_cast<int32_t>(max_bytes);
  // Back to the start of the character the cut would split (ICU's macro).
  U8_SET_CP_START(reinterpret_cast<const uint8_t*>(text.data()), 0, end);
  return std::string(text.substr(0, static_cast<size_t>(end)));
}

}  // namespace reception
