// reception-scheduling: the scheduling service alone (online sessions get
// their rooms only where a media service shares the process: receptiond).
#include "services/common/node_runtime.h"
#include "services/scheduling/scheduling_service.h"

int main(int argc, char** argv) {
  return reception::RunNode(argc, argv, "reception-scheduling",
                            {&reception::scheduling::SchedulingModule::Create});
}
