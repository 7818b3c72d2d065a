#include "services/case/node_key.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "services/common/key_file.h"

namespace reception {

NodeKey::~NodeKey() {
  sodium_memzero(secret_.data(), secret_.size());
  sodium_memzero(receipt_key_.data(), receipt_key_.size());
}

std::string NodeKey::ReceiptCode(absl::string_view case_number) const {
  // A keyed BLAKE2b hash of the number, read as 12 decimal digits (about 40
  // bits: with the look-up's rate limit, far beyond guessing).
  unsigned char h[16];
  crypto_generichash(
      h, sizeof h, reinterpret_cast<const unsigned char*>(case_number.data()), case_number.size(),
      reinterpret_cast<const unsigned char*>(receipt_key_.data()), receipt_key_.size());
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | h[i];
  return absl::StrFormat("%012d", v % 1000000000000ULL);
}

bool NodeKey::ReceiptCodeMatches(absl::string_view case_number, absl::string_view code) const {
  const std::string expected = ReceiptCode(case_number);
  std::string given(12, '\0');
  // Compared in constant time, whatever was given (short codes are padded).
  for (size_t i = 0; i < given.size() && i < code.size(); ++i) given[i] = code[i];
  const bool same = sodium_memcmp(expected.data(), given.data(), expected.size()) == 0;
  return same && code.size() == expected.size();
}

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
  // The receipt-code key: derived from the secret, so that it survives
  // restarts and backups with it, and used for nothing else.
  key->receipt_key_.assign(crypto_generichash_KEYBYTES, '\0');
  static constexpr char kContext[] = "reception receipt codes v1";
  crypto_generichash(
      reinterpret_cast<unsigned char*>(key->receipt_key_.data()), key->receipt_key_.size(),
      reinterpret_cast<const unsigned char*>(kContext), sizeof kContext - 1,
      reinterpret_cast<const unsigned char*>(key->secret_.data()), key->secret_.size());
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
