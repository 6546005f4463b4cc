// SPDX-License-Identifier: Apache-2.0
// diag-audit search and show over the joined requests.
#include "wrapper/audit/search.h"

#include <string>

#include "wrapper/audit/filter.h"
#include "wrapper/audit/render.h"

namespace diag::audit_search {

using audit_cli::Io;
using audit_cli::kExitError;
using audit_cli::kExitNotFound;
using audit_cli::kExitOk;
using audit_cli::Options;
using audit_cli::say_error;
using audit_reader::Request;
using audit_render::escape;
using audit_render::Format;

int search(const Options& o, Io& io, const std::vector<Request>& all) {
    auto rows = audit_filter::select(all, o.filter);
    if (!rows.ok()) {
        say_error(io, rows.error());
        return kExitError;
    }
    if (rows->empty()) {
        io.err("diag-audit: no matching requests\n");
        return kExitNotFound;
    }
    audit_render::Context ctx;
    ctx.id_len = audit_render::short_id_length(all);
    io.out(audit_render::render_list(*rows, o.format, ctx));
    return kExitOk;
}

int show(const Options& o, Io& io, const std::vector<Request>& all) {
    std::vector<const Request*> hits;
    for (const auto& r : all) {
        if (r.id == o.request_id) {
            hits = {&r};
            break;
        }
        if (!r.id.empty() && r.id.compare(0, o.request_id.size(), o.request_id) == 0) {
            hits.push_back(&r);
        }
    }
    if (hits.empty()) {
        io.err("diag-audit: no request " + escape(o.request_id) + "\n");
        return kExitNotFound;
    }
    if (hits.size() > 1) {
        std::string some;
        for (size_t i = 0; i < hits.size() && i < 3; ++i) {
            some += (i == 0 ? "" : ", ") + escape(hits[i]->id);
        }
        io.err("diag-audit: error: request id prefix " + escape(o.request_id) + " is ambiguous: " +
               std::to_string(hits.size()) + " requests match (" + some + (hits.size() > 3 ? ", ..." : "") + ")\n");
        return kExitError;
    }
    io.out(o.format == Format::kJson ? audit_render::json_line(*hits[0]) : audit_render::render_show(*hits[0]));
    return kExitOk;
}

}  // namespace diag::audit_search
