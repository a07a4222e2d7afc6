#include "ferry/sim/sim_node.h"

#include <stdexcept>

namespace ferry::sim {

SimNode::SimNode(Simulation& sim, std::string name, SimFilesystem* disk)
    : sim_(sim), name_(std::move(name)), disk_(disk), group_(sim.new_group(name_)) {
    if (disk_ != nullptr)
        disk_->set_crash_handler([this] { crash(); });
}

SimNode::~SimNode() {
    if (disk_ != nullptr)
        disk_->set_crash_handler(nullptr);
}

ProcessId SimNode::spawn(std::string name, std::function<void()> body, bool daemon) {
    return sim_.spawn_in(group_, std::move(name), std::move(body), daemon);
}

std::unique_ptr<SimMount> SimNode::mount() {
    if (disk_ == nullptr)
        throw std::logic_error("SimNode " + name_ + " has no disk to mount");
    auto mounted = disk_->mount();
    mounts_.push_back(mounted->id());
    return mounted;
}

void SimNode::kill() {
    ++deaths_;
    sim_.kill_group(group_);
    if (disk_ != nullptr) {
        for (const MountId id : mounts_)
            disk_->revoke(id);
    }
    mounts_.clear();
}

void SimNode::crash() {
    kill();
    if (disk_ != nullptr)
        disk_->crash();
}

}  // namespace ferry::sim
