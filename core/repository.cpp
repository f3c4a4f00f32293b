#include "core/repository.h"

#include <git2.h>

#include <memory>
#include <mutex>
#include <stdexcept>

#include "util/error.h"

namespace kiln {

namespace {

void ensureLibgit2() {
  static std::once_flag once;
  std::call_once(once, [] { git_libgit2_init(); });
}

std::string lastGitError() {
  const git_error* error = git_error_last();
  return error != nullptr && error->message != nullptr ? error->message
                                                       : "unknown error";
}

struct RepoDeleter {
  void operator()(git_repository* repo) const { git_repository_free(repo); }
};
using RepoPtr = std::unique_ptr<git_repository, RepoDeleter>;

RepoPtr openRepository(const std::filesystem::path& dir) {
  ensureLibgit2();
  git_repository* repo = nullptr;
  if (git_repository_open_ext(&repo, dir.c_str(), 0, nullptr) != 0) {
    return nullptr;
  }
  return RepoPtr(repo);
}

// Resolves a branch, tag or commit id to a commit, looking at remote
// branches too; returns false if nothing matches.
bool resolveRef(git_repository* repo, const std::string& ref, git_oid* oid) {
  const std::string candidates[] = {"refs/remotes/origin/" + ref,
                                    "refs/tags/" + ref, ref};
  for (const auto& name : candidates) {
    git_object* object = nullptr;
    if (git_revparse_single(&object, repo, name.c_str()) == 0) {
      git_object* commit = nullptr;
      int status = git_object_peel(&commit, object, GIT_OBJECT_COMMIT);
      git_object_free(object);
      if (status == 0) {
        git_oid_cpy(oid, git_object_id(commit));
        git_object_free(commit);
        return true;
      }
    }
  }
  return false;
}

}  // namespace

bool insideGitWorkTree(const std::filesystem::path& dir) {
  std::error_code error;
  for (std::filesystem::path at = dir;; at = at.parent_path()) {
    if (std::filesystem::exists(at / ".git", error)) {
      return true;
    }
    if (at == at.parent_path()) {
      return false;
    }
  }
}

GitState readGitState(const std::filesystem::path& dir) {
  GitState state;
  RepoPtr repo = openRepository(dir);
  if (!repo) {
    return state;
  }
  state.isGit = true;
  git_reference* head = nullptr;
  if (git_repository_head(&head, repo.get()) == 0) {
    char id[GIT_OID_HEXSZ + 1] = {};
    const git_oid* target = git_reference_target(head);
    if (target != nullptr) {
      git_oid_tostr(id, sizeof id, target);
      state.headCommit = id;
    }
    if (git_reference_is_branch(head)) {
      state.branch = git_reference_shorthand(head);
    }
    git_reference_free(head);
  } else if (git_repository_head_unborn(repo.get()) == 1) {
    git_reference* symbolic = nullptr;
    if (git_reference_lookup(&symbolic, repo.get(), "HEAD") == 0) {
      const char* name = git_reference_symbolic_target(symbolic);
      if (name != nullptr) {
        std::string full = name;
        const std::string prefix = "refs/heads/";
        state.branch =
            full.rfind(prefix, 0) == 0 ? full.substr(prefix.size()) : full;
      }
      git_reference_free(symbolic);
    }
  }
  return state;
}

bool isDirty(const std::filesystem::path& dir) {
  RepoPtr repo = openRepository(dir);
  if (!repo) {
    throw std::runtime_error(dir.string() + " is not a git repository");
  }
  git_status_options options = GIT_STATUS_OPTIONS_INIT;
  options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  options.flags =
      GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
  git_status_list* list = nullptr;
  if (git_status_list_new(&list, repo.get(), &options) != 0) {
    throw std::runtime_error("git status failed in " + dir.string() + ": " +
                             lastGitError());
  }
  bool dirty = git_status_list_entrycount(list) > 0;
  git_status_list_free(list);
  return dirty;
}

void checkoutRemote(const std::string& url, const std::string& ref,
                    const std::filesystem::path& dest) {
  ensureLibgit2();
  // Only a clone at `dest` itself, never a repository above it, and only a
  // clone of this URL: after the pipeline's url changes, a fetch from the
  // old origin would silently build the old repository.
  RepoPtr repo;
  git_repository* existing = nullptr;
  if (git_repository_open_ext(&existing, dest.c_str(),
                              GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) == 0) {
    repo.reset(existing);
    git_remote* origin = nullptr;
    bool sameUrl = false;
    if (git_remote_lookup(&origin, repo.get(), "origin") == 0) {
      const char* originUrl = git_remote_url(origin);
      sameUrl = originUrl != nullptr && url == originUrl;
      git_remote_free(origin);
    }
    if (!sameUrl) {
      repo.reset();
      std::filesystem::remove_all(dest);
    }
  }
  if (!repo) {
    std::filesystem::create_directories(dest.parent_path());
    git_repository* cloned = nullptr;
    git_clone_options options = GIT_CLONE_OPTIONS_INIT;
    options.checkout_opts.checkout_strategy = GIT_CHECKOUT_NONE;
    if (git_clone(&cloned, url.c_str(), dest.c_str(), &options) != 0) {
      throw UsageError("cannot clone " + url + ": " + lastGitError(),
                       "check the repository's 'url:' and that it is "
                       "reachable");
    }
    repo.reset(cloned);
  } else {
    git_remote* remote = nullptr;
    if (git_remote_lookup(&remote, repo.get(), "origin") == 0) {
      git_fetch_options options = GIT_FETCH_OPTIONS_INIT;
      int status = git_remote_fetch(remote, nullptr, &options, nullptr);
      git_remote_free(remote);
      if (status != 0) {
        throw UsageError("cannot fetch " + url + ": " + lastGitError(),
                         "check that the repository is reachable");
      }
    }
  }

  git_oid oid;
  std::string wanted = ref.empty() ? "HEAD" : ref;
  if (!resolveRef(repo.get(), wanted, &oid)) {
    throw UsageError("ref '" + wanted + "' not found in " + url,
                     "name an existing branch, tag or commit in 'ref:'");
  }
  git_object* commit = nullptr;
  git_object_lookup(&commit, repo.get(), &oid, GIT_OBJECT_COMMIT);
  git_checkout_options checkout = GIT_CHECKOUT_OPTIONS_INIT;
  checkout.checkout_strategy = GIT_CHECKOUT_FORCE;
  int status = git_checkout_tree(repo.get(), commit, &checkout);
  if (status == 0) {
    status = git_repository_set_head_detached(repo.get(), &oid);
  }
  git_object_free(commit);
  if (status != 0) {
    throw std::runtime_error("cannot check out " + wanted + " in " +
                             dest.string() + ": " + lastGitError());
  }
}

}  // namespace kiln
