// libpq from Debian's libpq-dev; the header lives under /usr/include/postgresql.
#include <postgresql/libpq-fe.h>
