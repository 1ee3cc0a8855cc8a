/* err.c - names, messages and HTTP statuses generated from FW_ERR_MAP. */
#include "service/core/err.h"

struct err_info {
    int code;
    int status;
    const char *name;
    const char *msg;
};

static const struct err_info s_errs[] = {
#define FW_ERR_INFO(name, status, msg) {FW_E##name, status, "FW_E" #name, msg},
    FW_ERR_MAP(FW_ERR_INFO)
#undef FW_ERR_INFO
};

static const struct err_info *find(int err)
{
    for (unsigned i = 0; i < sizeof s_errs / sizeof s_errs[0]; i++)
        if (s_errs[i].code == err)
            return &s_errs[i];
    return 0;
}

const char *fw_err_name(int err)
{
    const struct err_info *e = find(err);
    return err == 0 ? "FW_OK" : e ? e->name : "FW_EUNKNOWN";
}

const char *fw_strerror(int err)
{
    const struct err_info *e = find(err);
    return err == 0 ? "success" : e ? e->msg : "unknown error";
}

int fw_err_http_status(int err)
{
    const struct err_info *e = find(err);
    return e ? e->status : 500;
}
