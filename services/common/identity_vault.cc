#include "services/common/identity_vault.h"

#include <sodium.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace reception {
namespace {

constexpr size_t kKeyBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
static_assert(kKeyBytes == 32);

std::string ToHex(const unsigned char* data, size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, n);
  out.pop_back();
  return out;
}

absl::Status CreateKeyFile(const std::string& path) {
  unsigned char key[kKeyBytes];
  randombytes_buf(key, sizeof key);
  unsigned char id_hash[8];
  crypto_generichash(id_hash, sizeof id_hash, key, sizeof key, nullptr, 0);
  const std::string line =
      absl::StrCat("k", ToHex(id_hash, sizeof id_hash), " ", ToHex(key, sizeof key), "\n");
  sodium_memzero(key, sizeof key);
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << "# Keys encrypting protected identities at rest: \"key_id hex-key\", the last\n"
           "# one active. Keep this file secret and backed up: without it, protected\n"
           "# identities cannot be read.\n"
        << line;
    out.flush();
    if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", tmp));
  }
  chmod(tmp.c_str(), 0600);
  std::filesystem::rename(tmp, path, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", path));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<IdentityVault>> IdentityVault::ForNode(
    const std::string& identity_key_file, const std::string& data_dir) {
  const bool default_file =
      identity_key_file == (std::filesystem::path(data_dir) / "identity.keys").string();
  return Open(identity_key_file, default_file);
}

IdentityVault::~IdentityVault() {
  for (auto& k : keys_) sodium_memzero(k.bytes.data(), k.bytes.size());
  sodium_memzero(fingerprint_key_.data(), fingerprint_key_.size());
}

absl::StatusOr<std::unique_ptr<IdentityVault>> IdentityVault::Open(const std::string& path,
                                                                   bool create_if_missing) {
  if (sodium_init() < 0) return absl::InternalError("libsodium could not initialise");
  if (!std::filesystem::exists(path)) {
    if (!create_if_missing) {
      return absl::NotFoundError(absl::StrCat("identity key file ", path, " does not exist"));
    }
    if (auto s = CreateKeyFile(path); !s.ok()) return s;
  }
  std::ifstream in(path);
  if (!in) return absl::UnavailableError(absl::StrCat("cannot read identity key file ", path));
  std::unique_ptr<IdentityVault> vault(new IdentityVault());
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    absl::string_view l = absl::StripAsciiWhitespace(line);
    if (l.empty() || l[0] == '#') continue;
    std::vector<absl::string_view> parts = absl::StrSplit(l, ' ', absl::SkipEmpty());
    // Never echo the line: it holds a key.
    if (parts.size() != 2 || parts[1].size() != kKeyBytes * 2) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", lineno, ": must be \"key_id\" and 64 hexadecimal digits"));
    }
    Key k;
    k.id = std::string(parts[0]);
    k.bytes.resize(kKeyBytes);
    size_t len = 0;
    if (sodium_hex2bin(reinterpret_cast<unsigned char*>(k.bytes.data()), kKeyBytes, parts[1].data(),
                       parts[1].size(), nullptr, &len, nullptr) != 0 ||
        len != kKeyBytes) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", lineno, ": the key is not 64 hexadecimal digits"));
    }
    for (const auto& other : vault->keys_) {
      if (other.id == k.id) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ":", lineno, ": key id ", k.id, " is used twice"));
      }
    }
    vault->keys_.push_back(std::move(k));
  }
  if (vault->keys_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": holds no key"));
  }
  vault->fingerprint_key_.resize(crypto_generichash_KEYBYTES);
  crypto_kdf_derive_from_key(
      reinterpret_cast<unsigned char*>(vault->fingerprint_key_.data()),
      vault->fingerprint_key_.size(), 1, "fingerpr",
      reinterpret_cast<const unsigned char*>(vault->keys_.front().bytes.data()));
  return vault;
}

common::Sealed IdentityVault::Seal(absl::string_view plaintext,
                                   absl::string_view case_number) const {
  const Key& key = keys_.back();
  common::Sealed sealed;
  sealed.set_key_id(key.id);
  std::string nonce(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, '\0');
  randombytes_buf(nonce.data(), nonce.size());
  std::string cipher(plaintext.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long cipher_len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<unsigned char*>(cipher.data()), &cipher_len,
      reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const unsigned char*>(case_number.data()), case_number.size(), nullptr,
      reinterpret_cast<const unsigned char*>(nonce.data()),
      reinterpret_cast<const unsigned char*>(key.bytes.data()));
  cipher.resize(cipher_len);
  sealed.set_nonce(std::move(nonce));
  sealed.set_ciphertext(std::move(cipher));
  return sealed;
}

absl::StatusOr<std::string> IdentityVault::Unseal(const common::Sealed& sealed,
                                                  absl::string_view case_number) const {
  const Key* key = nullptr;
  for (const auto& k : keys_) {
    if (k.id == sealed.key_id()) key = &k;
  }
  if (key == nullptr) {
    return absl::DataLossError(
        absl::StrCat("identity key ", sealed.key_id(), " is not in the key file"));
  }
  if (sealed.nonce().size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES ||
      sealed.ciphertext().size() < crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    return absl::DataLossError("sealed identity is malformed");
  }
  std::string plain(sealed.ciphertext().size() - crypto_aead_xchacha20poly1305_ietf_ABYTES, '\0');
  unsigned long long plain_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<unsigned char*>(plain.data()), &plain_len, nullptr,
          reinterpret_cast<const unsigned char*>(sealed.ciphertext().data()),
          sealed.ciphertext().size(), reinterpret_cast<const unsigned char*>(case_number.data()),
          case_number.size(), reinterpret_cast<const unsigned char*>(sealed.nonce().data()),
          reinterpret_cast<const unsigned char*>(key->bytes.data())) != 0) {
    return absl::DataLossError("sealed identity failed authentication");
  }
  plain.resize(plain_len);
  return plain;
}

std::string IdentityVault::Fingerprint(absl::string_view data) const {
  std::string out(32, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(out.data()), out.size(),
                     reinterpret_cast<const unsigned char*>(data.data()), data.size(),
                     reinterpret_cast<const unsigned char*>(fingerprint_key_.data()),
                     fingerprint_key_.size());
  return out;
}

}  // namespace reception
