#include "services/common/backup.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/text_format.h"
#include "services/common/logging.h"
#include "services/common/process_metrics.h"
#include "services/common/store.h"

namespace reception {

namespace fs = std::filesystem;

namespace {

constexpr char kManifest[] = "MANIFEST.textproto";

absl::Status IoError(const std::string& what, const std::error_code& ec) {
  return absl::InternalError(absl::StrCat(what, ": ", ec.message()));
}

// Bytes of the regular files under `dir`.
int64_t SizeOf(const fs::path& dir) {
  int64_t bytes = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec)) bytes += static_cast<int64_t>(it->file_size(ec));
  }
  return bytes;
}

// Copies `from` to `to` (a new file, mode 0600), then syncs it.
absl::Status CopyFile(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::create_directories(to.parent_path(), ec);
  if (ec) return IoError(absl::StrCat("creating ", to.parent_path().string()), ec);
  if (!fs::copy_file(from, to, fs::copy_options::none, ec) || ec) {
    return IoError(absl::StrCat("copying ", from.string(), " to ", to.string()), ec);
  }
  fs::permissions(to, fs::perms::owner_read | fs::perms::owner_write, ec);
  return absl::OkStatus();
}

bool SameContent(const fs::path& a, const fs::path& b) {
  std::ifstream x(a, std::ios::binary), y(b, std::ios::binary);
  std::stringstream sx, sy;
  sx << x.rdbuf();
  sy << y.rdbuf();
  return x && y && sx.str() == sy.str();
}

// Where a restore puts file `f` of a backup: the data directory, or the
// path this configuration gives the setting it came from ("" if none).
fs::path RestoreTarget(const admin::v1::BackupFile& f, const fs::path& data_dir,
                       const config::v1::NodeConfig& config) {
  if (f.in_data_dir()) return data_dir / f.restore_path();
  if (f.setting() == "identity_key_file") return config.identity_key_file();
  if (f.setting() == "duplicates.matching_key_file") {
    return config.duplicates().matching_key_file();
  }
  return {};
}

}  // namespace

absl::StatusOr<std::string> BackupId(absl::Time now, const std::string& label) {
  if (label.size() > 40) return absl::InvalidArgumentError("label must be at most 40 characters");
  for (char ch : label) {
    if (!absl::ascii_islower(ch) && !absl::ascii_isdigit(ch) && ch != '-') {
      return absl::InvalidArgumentError("label may hold only a-z, 0-9 and '-'");
    }
  }
  std::string id = absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone());
  if (!label.empty()) absl::StrAppend(&id, "-", label);
  return id;
}

absl::StatusOr<admin::v1::Backup> TakeBackup(const config::v1::NodeConfig& config,
                                             const std::string& label, absl::Time now) {
  if (config.backup().dir().empty()) {
    return absl::FailedPreconditionError(
        "this node has no backup directory: set backup.dir in its configuration");
  }
  auto id = BackupId(now, label);
  if (!id.ok()) return id.status();
  const fs::path root(config.backup().dir());
  const fs::path final_dir = root / *id;
  const fs::path dir = root / (*id + ".partial");
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return IoError(absl::StrCat("creating ", root.string()), ec);
  if (fs::exists(final_dir, ec) || fs::exists(dir, ec)) {
    return absl::AlreadyExistsError(
        absl::StrCat("backup ", *id, " already exists: take it again in a second, or label it"));
  }
  fs::create_directory(dir, ec);
  if (ec) return IoError(absl::StrCat("creating ", dir.string()), ec);
  fs::permissions(dir, fs::perms::owner_all, ec);

  admin::v1::Backup out;
  out.set_name(absl::StrCat("backups/", *id));
  out.set_path(final_dir.string());
  out.mutable_create_time()->set_seconds(absl::ToUnixSeconds(now));
  out.set_unit_code(config.unit_code());
  out.set_version(BuildVersion());
  out.set_commit(BuildCommit());
  auto fail = [&](absl::Status s) {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
    return s;
  };

  const fs::path data_dir = fs::absolute(config.data_dir());
  for (const auto& [name, store] : Store::All()) {
    fs::path relative = fs::absolute(store->path()).lexically_relative(data_dir);
    if (relative.empty() || absl::StartsWith(relative.string(), "..")) relative = name;
    const fs::path target = dir / "stores" / relative;
    fs::create_directories(target.parent_path(), ec);
    if (ec) return fail(IoError(absl::StrCat("creating ", target.parent_path().string()), ec));
    auto sequence = store->Checkpoint(target.string());
    if (!sequence.ok()) return fail(sequence.status());
    auto* s = out.add_stores();
    s->set_store(name);
    s->set_relative_path(relative.string());
    s->set_sequence(static_cast<int64_t>(*sequence));
    s->set_bytes(SizeOf(target));
  }
  // The data directory's own files (the node key; the identity keys unless
  // configured elsewhere), then key files kept elsewhere.
  std::map<std::string, std::string> copied;  // source -> setting
  for (auto it = fs::directory_iterator(data_dir, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const std::string file = it->path().filename().string();
    if (file == kRestoredMarker) continue;
    if (auto s = CopyFile(it->path(), dir / "data" / file); !s.ok()) return fail(s);
    auto* f = out.add_files();
    f->set_backup_path(absl::StrCat("data/", file));
    f->set_restore_path(file);
    f->set_in_data_dir(true);
    copied[fs::absolute(it->path()).string()] = "";
  }
  if (ec) return fail(IoError(absl::StrCat("listing ", data_dir.string()), ec));
  const std::pair<std::string, std::string> settings[] = {
      {"identity_key_file", config.identity_key_file()},
      {"duplicates.matching_key_file", config.duplicates().matching_key_file()}};
  for (const auto& [setting, path] : settings) {
    if (path.empty()) continue;
    const std::string source = fs::absolute(path).string();
    if (copied.count(source) > 0) continue;
    const std::string name = absl::StrCat(setting, "-", fs::path(path).filename().string());
    if (auto s = CopyFile(source, dir / "keys" / name); !s.ok()) return fail(s);
    auto* f = out.add_files();
    f->set_backup_path(absl::StrCat("keys/", name));
    f->set_restore_path(source);
    f->set_setting(setting);
    copied[source] = setting;
  }
  // The manifest last, then the name: a backup without one is unfinished.
  std::string manifest;
  google::protobuf::TextFormat::PrintToString(out, &manifest);
  {
    std::ofstream m(dir / kManifest, std::ios::binary);
    m << manifest;
    m.flush();
    if (!m) return fail(absl::InternalError("writing the backup's manifest failed"));
  }
  fs::rename(dir, final_dir, ec);
  if (ec) return fail(IoError("naming the finished backup", ec));
  Log()->info("event=backup_taken backup={} stores={} files={}", out.name(), out.stores_size(),
              out.files_size());
  return out;
}

absl::StatusOr<std::vector<std::string>> RestoreBackup(const std::string& backup_dir,
                                                       const config::v1::NodeConfig& config) {
  const fs::path dir(backup_dir);
  std::ifstream in(dir / kManifest, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(absl::StrCat(
        backup_dir, " has no ", kManifest, ": not a backup, or one that did not finish"));
  }
  std::stringstream text;
  text << in.rdbuf();
  admin::v1::Backup b;
  if (!google::protobuf::TextFormat::ParseFromString(text.str(), &b)) {
    return absl::DataLossError(absl::StrCat(backup_dir, "/", kManifest, " does not parse"));
  }
  if (b.unit_code() != config.unit_code()) {
    return absl::FailedPreconditionError(absl::StrCat("the backup is of unit ", b.unit_code(),
                                                      ", the configuration's node is of ",
                                                      config.unit_code()));
  }
  const fs::path data_dir = fs::absolute(config.data_dir());
  std::error_code ec;
  // Nothing is overwritten: every target is checked before anything moves.
  for (const auto& s : b.stores()) {
    const fs::path rel(s.relative_path());
    if (rel.is_absolute() || absl::StrContains(s.relative_path(), "..")) {
      return absl::DataLossError(absl::StrCat("the manifest's store path ", s.relative_path(),
                                              " leaves the data directory"));
    }
    if (fs::exists(data_dir / rel, ec)) {
      return absl::FailedPreconditionError(
          absl::StrCat(data_dir.string(), " already holds store ", s.store(),
                       ": restore into an empty data directory (move the old one aside)"));
    }
  }
  for (const auto& f : b.files()) {
    if (absl::StrContains(f.backup_path(), "..") ||
        (f.in_data_dir() && absl::StrContains(f.restore_path(), "/"))) {
      return absl::DataLossError(absl::StrCat("the manifest's file ", f.backup_path(),
                                              " leaves the backup or the data directory"));
    }
    // A key file goes back where this configuration names it, never to a
    // path the manifest says.
    if (!f.in_data_dir() && f.setting() != "identity_key_file" &&
        f.setting() != "duplicates.matching_key_file") {
      return absl::DataLossError(
          absl::StrCat("the manifest's file ", f.backup_path(), " names no known setting"));
    }
    const fs::path target = RestoreTarget(f, data_dir, config);
    if (target.empty()) continue;
    if (fs::exists(target, ec) && !SameContent(target, dir / f.backup_path())) {
      return absl::FailedPreconditionError(absl::StrCat(target.string(),
                                                        " exists and differs from the backup's ",
                                                        f.backup_path(), ": move it aside first"));
    }
  }
  std::vector<std::string> done;
  fs::create_directories(data_dir, ec);
  if (ec) return IoError(absl::StrCat("creating ", data_dir.string()), ec);
  for (const auto& s : b.stores()) {
    const fs::path target = data_dir / s.relative_path();
    fs::create_directories(target.parent_path(), ec);
    fs::copy(dir / "stores" / s.relative_path(), target, fs::copy_options::recursive, ec);
    if (ec) return IoError(absl::StrCat("restoring store ", s.store()), ec);
    done.push_back(absl::StrCat("store ", s.store(), " -> ", target.string(), " (sequence ",
                                s.sequence(), ")"));
  }
  for (const auto& f : b.files()) {
    const fs::path target = RestoreTarget(f, data_dir, config);
    if (target.empty() || fs::exists(target, ec)) continue;  // the same file is there
    if (auto s = CopyFile(dir / f.backup_path(), target); !s.ok()) return s;
    done.push_back(absl::StrCat("file ", f.backup_path(), " -> ", target.string()));
  }
  {
    std::ofstream marker(data_dir / kRestoredMarker, std::ios::binary);
    marker << b.name() << "\n";
    if (!marker) return absl::InternalError("writing the restore marker failed");
  }
  done.push_back(absl::StrCat("marker ", kRestoredMarker, ": at start the case service moves its ",
                              "counters ", kRestoreCounterGap, " ahead"));
  return done;
}

}  // namespace reception
