#include "ferry/protocol/annotation.h"

namespace ferry {
namespace {

/// Per thread, so that simulations running on several threads at once
/// (ferry explore --jobs) each get their own processes' notes.
thread_local AnnotationSink* current_sink = nullptr;

}  // namespace

void annotate(std::string_view text) {
    if (current_sink != nullptr)
        current_sink->annotate(text);
}

ScopedAnnotationSink::ScopedAnnotationSink(AnnotationSink& sink) : before_(current_sink) {
    current_sink = &sink;
}

ScopedAnnotationSink::~ScopedAnnotationSink() {
    current_sink = before_;
}

}  // namespace ferry
