/* The C readout core of indi-playerone: the one header the cffi module includes.
 * Each component has its own header under native/include/; this file pulls them in. */
#ifndef POA_CORE_H
#define POA_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "poa_common.h"
#include "poa_fits.h"
#include "poa_ring.h"
#include "poa_sdk.h"
#include "poa_ser.h"
#include "poa_stats.h"

#endif
