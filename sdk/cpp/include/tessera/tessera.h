// The Tessera C++ SDK: everything a component includes. See sdk/cpp/README.md.
#pragma once

#include "binding.h"
#include "exports.h"
#include "host.h"
#include "manifest.h"
#include "pubsub.h"
#include "snapshot.h"
#include "state.h"
#include "types.h"
