#include "services/case/node_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace reception {

NodeKey::~NodeKey() { sodium_memzero(secret_.data(), secret_.size()); }

std::string NodeKey::KeyId(absl::string_view public_key) {
  unsigned char h[8];
  crypto_generichash(h, sizeof h, reinterpret_cast<const unsigned char*>(public_key.data()),
                     public_key.size(), nullptr, 0);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(h), sizeof h));
}

absl::StatusOr<std::unique_ptr<NodeKey>> NodeKey::Open(const std::string& path) {
  if (sodium_init() < 0) return absl::InternalError("libsodium could not initialise");
  std::unique_ptr<NodeKey> key(new NodeKey());
  if (!std::filesystem::exists(path)) {
    unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
    crypto_box_keypair(pk, sk);
    const std::string line = absl::StrCat(
        absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(pk), sizeof pk)), " ",
        absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(sk), sizeof sk)), "\n");
    sodium_memzero(sk, sizeof sk);
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot create node key ", path));
    const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                    ::fsync(fd) == 0;
    ::close(fd);
    if (!ok) return absl::UnavailableError(absl::StrCat("cannot write node key ", path));
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(text.str()), ' ', absl::SkipEmpty());
  if (parts.size() != 2) return absl::DataLossError(absl::StrCat(path, " is not a node key file"));
  key->public_ = absl::HexStringToBytes(parts[0]);
  key->secret_ = absl::HexStringToBytes(parts[1]);
  if (key->public_.size() != crypto_box_PUBLICKEYBYTES ||
      key->secret_.size() != crypto_box_SECRETKEYBYTES) {
    return absl::DataLossError(absl::StrCat(path, " holds a key of the wrong size"));
  }
  key->key_id_ = KeyId(key->public_);
  return key;
}

absl::StatusOr<std::string> NodeKey::SealFor(absl::string_view public_key, absl::string_view plaintext) {
  if (public_key.size() != crypto_box_PUBLICKEYBYTES) {
    return absl::InvalidArgumentError("a node public key must be 32 bytes");
  }
  std::string out(plaintext.size() + crypto_box_SEALBYTES, '\0');
  crypto_box_seal(reinterpret_cast<unsigned char*>(out.data()),
                  reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                  reinterpret_cast<const unsigned char*>(public_key.data()));
  return out;
}

absl::StatusOr<std::string> NodeKey::OpenSealed(absl::string_view sealed) const {
  if (sealed.size() < crypto_box_SEALBYTES) return absl::DataLossError("sealed identity is truncated");
  std::string out(sealed.size() - crypto_box_SEALBYTES, '\0');
  if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(sealed.data()), sealed.size(),
                           reinterpret_cast<const unsigned char*>(public_.data()),
                           reinterpret_cast<const unsigned char*>(secret_.data())) != 0) {
    return absl::DataLossError("the sealed identity was not sealed for this node or was altered");
  }
  return out;
}

}  // namespace reception
