/* CHECK for the C core's test programs: count a failure, say where and why, go on; the
 * program's exit status is failures != 0. */
#ifndef POA_CHECK_H
#define POA_CHECK_H

#include <stdio.h>

static int failures;
#define CHECK(cond, ...)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            failures++;                                                                    \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                           \
            fprintf(stderr, __VA_ARGS__);                                                  \
            fputc('\n', stderr);                                                           \
        }                                                                                  \
    } while (0)

#endif
