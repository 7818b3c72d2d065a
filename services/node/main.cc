// receptiond: the all-in-one node hosting every service in one process, for a
// commune PC or a laptop. Today it hosts the case service; routing,
// scheduling and media join it as they are built.
#include "services/case/case_service.h"
#include "services/common/node_runtime.h"

int main(int argc, char** argv) {
  return reception::RunNode(argc, argv, "receptiond", {&reception::CaseModule::Create});
}
