#include "ferry/views/sequence_rows.h"

namespace ferry::views {

using sim::TraceKind;

bool drawn(const sim::TraceEvent& event) {
    return event.kind != TraceKind::run;
}

bool routine(const sim::TraceEvent& event) {
    switch (event.kind) {
        case TraceKind::send:
        case TraceKind::recv:
        case TraceKind::segment:
        case TraceKind::deliver:
        case TraceKind::store_write:
        case TraceKind::fs_write:
        case TraceKind::fs_read:
            return event.kind != TraceKind::recv || event.b != 0;  // end of stream stands out
        default:
            return false;
    }
}

namespace {

class RowBuilder {
  public:
    RowBuilder(const sim::Recording& recording, const RowMetrics& metrics)
        : events_(recording.events()), metrics_(metrics), y_(metrics.top) {}

    SequenceRows build() {
        for (std::size_t i = 0; i < events_.size(); ++i) {
            if (!drawn(events_[i]))
                continue;
            if (routine(events_[i])) {
                run_.push_back(i);
                continue;
            }
            flush_run();
            add_event_row(i);
        }
        flush_run();
        assign_event_heights();
        out_.bottom = y_;
        return std::move(out_);
    }

  private:
    void add_event_row(std::size_t event) {
        SequenceRow row;
        row.event = event;
        row.y = y_;
        row.height = metrics_.row_height;
        y_ += row.height;
        out_.rows.push_back(row);
    }

    /// A run of routine events: all of them, or its ends around a fold.
    void flush_run() {
        if (run_.size() <= metrics_.fold_threshold) {
            for (std::size_t event : run_)
                add_event_row(event);
            run_.clear();
            return;
        }
        const std::size_t keep = metrics_.fold_keep;
        for (std::size_t k = 0; k < keep; ++k)
            add_event_row(run_[k]);
        SequenceRow fold;
        fold.fold = true;
        fold.fold_begin = run_[keep];
        fold.fold_end = run_[run_.size() - keep];
        fold.y = y_;
        fold.height = metrics_.fold_height;
        y_ += fold.height;
        out_.rows.push_back(fold);
        for (std::size_t k = run_.size() - keep; k < run_.size(); ++k)
            add_event_row(run_[k]);
        run_.clear();
    }

    void assign_event_heights() {
        out_.event_y.assign(events_.size() + 1, y_);
        out_.event_row.assign(events_.size(), out_.rows.size());
        std::size_t next = 0;  // the first event not yet placed
        for (std::size_t r = 0; r < out_.rows.size(); ++r) {
            const SequenceRow& row = out_.rows[r];
            const std::size_t last = row.fold ? row.fold_end - 1 : row.event;
            for (; next <= last; ++next)
                out_.event_y[next] = row.y;
            if (row.fold) {
                for (std::size_t i = row.fold_begin; i < row.fold_end; ++i)
                    out_.event_row[i] = r;
            } else {
                out_.event_row[row.event] = r;
            }
        }
    }

    const std::vector<sim::TraceEvent>& events_;
    const RowMetrics& metrics_;
    std::uint64_t y_;
    std::vector<std::size_t> run_;
    SequenceRows out_;
};

}  // namespace

SequenceRows lay_out_rows(const sim::Recording& recording, const RowMetrics& metrics) {
    return RowBuilder(recording, metrics).build();
}

}  // namespace ferry::views
