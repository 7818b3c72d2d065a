// Small shared pieces of storage plumbing: ordered integer keys, and secret
// key files (created once with mode 0600, read back as hex).
#ifndef RECEPTION_SERVICES_COMMON_KEY_FILE_H_
#define RECEPTION_SERVICES_COMMON_KEY_FILE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace reception {

// 8 bytes, big-endian: keys that sort in numeric order.
std::string BigEndian64(uint64_t v);
uint64_t FromBigEndian64(absl::string_view s);

// A key pair kept in `path` as "public-hex secret-hex". When the file is
// missing, `generate` makes a pair, written with O_EXCL, mode 0600 and fsync.
// DATA_LOSS when the file does not hold two hex keys of the expected sizes.
absl::StatusOr<std::pair<std::string, std::string>> LoadOrCreateKeyPair(
    const std::string& path, size_t public_bytes, size_t secret_bytes,
    const std::function<std::pair<std::string, std::string>()>& generate);

// A shared secret kept in `path` as hex digits (whitespace around them
// ignored), made elsewhere and copied to every node that shares it (e.g. a
// province's matching key). NOT_FOUND when the file is missing;
// INVALID_ARGUMENT when it does not hold exactly `bytes` bytes as hex, or
// when others than its owner may read it (it is a secret: mode 0600 or
// 0400).
absl::StatusOr<std::string> LoadSharedSecret(const std::string& path, size_t bytes);

}  // namespace reception

#endif  // RECEPTION_SERVICES_COMMON_KEY_FILE_H_
