// reception-media: the media service alone.
#include "services/common/node_runtime.h"
#include "services/media/media_service.h"

int main(int argc, char** argv) {
  return reception::RunNode(argc, argv, "reception-media",
                            {&reception::media::MediaModule::Create});
}
