#include "services/common/key_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace reception {

std::string BigEndian64(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

uint64_t FromBigEndian64(absl::string_view s) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8 && i < s.size(); ++i) v = (v << 8) | static_cast<uint8_t>(s[i]);
  return v;
}

absl::StatusOr<std::pair<std::string, std::string>> LoadOrCreateKeyPair(
    const std::string& path, size_t public_bytes, size_t secret_bytes,
    const std::function<std::pair<std::string, std::string>()>& generate) {
  if (!std::filesystem::exists(path)) {
    auto [pub, sec] = generate();
    std::string line =
        absl::StrCat(absl::BytesToHexString(pub), " ", absl::BytesToHexString(sec), "\n");
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return absl::UnavailableError(absl::StrCat("cannot create key file ", path));
    const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                    ::fsync(fd) == 0;
    ::close(fd);
    std::fill(line.begin(), line.end(), '\0');
    std::fill(sec.begin(), sec.end(), '\0');
    if (!ok) return absl::UnavailableError(absl::StrCat("cannot write key file ", path));
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> parts =
      absl::StrSplit(absl::StripAsciiWhitespace(text.str()), ' ', absl::SkipEmpty());
  if (parts.size() != 2) return absl::DataLossError(absl::StrCat(path, " is not a key file"));
  std::pair<std::string, std::string> keys{absl::HexStringToBytes(parts[0]),
                                           absl::HexStringToBytes(parts[1])};
  if (keys.first.size() != public_bytes || keys.second.size() != secret_bytes) {
    return absl::DataLossError(absl::StrCat(path, " holds a key of the wrong size"));
  }
  return keys;
}

absl::StatusOr<std::string> LoadSharedSecret(const std::string& path, size_t bytes) {
  std::error_code ec;
  const auto status = std::filesystem::status(path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return absl::NotFoundError(absl::StrCat("the key file ", path, " does not exist"));
  }
  using std::filesystem::perms;
  // Readable by its owner only; or, as Kubernetes mounts a Secret for a pod
  // with an fsGroup, owned by root and readable by this process's group
  // alone (0440, root:<our gid>). Never by others.
  struct stat st {};
  const bool kubernetes_secret =
      ::stat(path.c_str(), &st) == 0 && st.st_uid == 0 && st.st_gid == ::getegid() &&
      (status.permissions() & (perms::group_write | perms::group_exec)) == perms::none;
  const perms group = kubernetes_secret ? perms::none : perms::group_all;
  if ((status.permissions() & (group | perms::others_all)) != perms::none) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the key file ", path, " may be read by others than its owner; chmod 0600 it"));
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string hex(absl::StripAsciiWhitespace(text.str()));
  bool is_hex = hex.size() == 2 * bytes;
  for (char ch : hex) is_hex = is_hex && absl::ascii_isxdigit(static_cast<unsigned char>(ch));
  if (!is_hex) {
    return absl::InvalidArgumentError(absl::StrCat("the key file ", path, " must hold ", bytes,
                                                   " bytes as ", 2 * bytes, " hex digits"));
  }
  return absl::HexStringToBytes(hex);
}

}  // namespace reception
