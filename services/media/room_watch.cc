#include "services/media/room_watch.h"

namespace reception::media {

void RoomWatchers::Add(const std::string& room, const std::string& participant, Watcher* w) {
  absl::MutexLock lock(&mu_);
  by_room_[room].insert(w);
  if (!participant.empty()) ++streams_[{room, participant}];
}

bool RoomWatchers::Remove(const std::string& room, const std::string& participant, Watcher* w) {
  absl::MutexLock lock(&mu_);
  auto it = by_room_.find(room);
  if (it != by_room_.end()) {
    it->second.erase(w);
    if (it->second.empty()) by_room_.erase(it);
  }
  if (participant.empty()) return false;
  auto s = streams_.find({room, participant});
  if (s == streams_.end()) return true;
  if (--s->second > 0) return false;
  streams_.erase(s);
  return true;
}

bool RoomWatchers::HasStream(const std::string& room, const std::string& participant) const {
  absl::MutexLock lock(&mu_);
  return streams_.count({room, participant}) > 0;
}

void RoomWatchers::Notify(const std::string& room) {
  std::vector<Watcher*> woken;
  {
    absl::MutexLock lock(&mu_);
    auto it = by_room_.find(room);
    if (it == by_room_.end()) return;
    for (Watcher* w : it->second) {
      w->Ref();
      woken.push_back(w);
    }
  }
  for (Watcher* w : woken) {
    w->Wake();
    w->Unref();
  }
}

size_t RoomWatchers::size() const {
  absl::MutexLock lock(&mu_);
  size_t n = 0;
  for (const auto& [room, set] : by_room_) n += set.size();
  return n;
}

}  // namespace reception::media
