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
#include "services/common/key_file.h"

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
  auto pair = LoadOrCreateKeyPair(path, crypto_box_PUBLICKEYBYTES, crypto_box_SECRETKEYBYTES, [] {
    std::string pk(crypto_box_PUBLICKEYBYTES, '\0'), sk(crypto_box_SECRETKEYBYTES, '\0');
    crypto_box_keypair(reinterpret_cast<unsigned char*>(pk.data()),
                       reinterpret_cast<unsigned char*>(sk.data()));
    return std::make_pair(pk, sk);
  });
  if (!pair.ok()) return pair.status();
  std::unique_ptr<NodeKey> key(new NodeKey());
  key->public_ = std::move(pair->first);
  key->secret_ = std::move(pair->second);
  key->key_id_ = KeyId(key->public_);
  return key;
}

absl::StatusOr<std::string> NodeKey::SealFor(absl::string_view public_key,
                                             absl::string_view plaintext) {
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
  if (sealed.size() < crypto_box_SEALBYTES)
    return absl::DataLossError("sealed identity is truncated");
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
