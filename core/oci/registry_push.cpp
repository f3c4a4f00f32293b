#include <set>

#include "core/oci/errors.h"
#include "core/oci/registry.h"
#include "core/oci/registry_session.h"
#include "util/strings.h"

namespace kiln::oci {

namespace {

bool isNondistributable(const std::string& mediaType) {
  return mediaType.find(".nondistributable.") != std::string::npos ||
         mediaType.find(".foreign.") != std::string::npos;
}

// The absolute URL of an upload session from a Location header.
std::string absoluteLocation(RegistrySession& session, const Reference& target,
                             std::string location) {
  if (startsWith(location, "/")) {
    location = session.originUrl(target) + location;
  }
  return location;
}

// Starts an upload session (POST) and returns its absolute URL.
std::string startUpload(RegistrySession& session, const Reference& target,
                        const Digest& digest) {
  HttpRequest request;
  request.method = "POST";
  request.url = session.repositoryUrl(target) + "blobs/uploads/";
  HttpResponse response = session.send(target, Access::push, request);
  std::string location = response.header("location");
  if (response.status != 202 || location.empty()) {
    session.fail(target, response,
                 "cannot start the upload of blob " + digestString(digest) +
                     " to " + target.name());
  }
  return absoluteLocation(session, target, location);
}

// The result of a cross-repository mount request.
struct MountOutcome {
  bool mounted = false;
  /// The upload session that the registry started in place of the mount
  /// (202 Accepted), or "" when there is none.
  std::string uploadLocation;
};

// Asks the registry to link `digest` from repository `from` into the
// target's repository (POST .../blobs/uploads/?mount=&from=). 201 means
// the blob is there now. 202 means the registry declined and started an
// upload session instead. Any other status, or credentials that do not
// reach `from`, leave a plain upload to the caller.
MountOutcome mountBlob(RegistrySession& session, const Reference& target,
                       const Digest& digest, const std::string& from) {
  HttpRequest request;
  request.method = "POST";
  request.url = session.repositoryUrl(target) + "blobs/uploads/?mount=" +
                session.http().escape(digestString(digest)) +
                "&from=" + session.http().escape(from);
  HttpResponse response;
  try {
    response = session.sendMount(target, from, request);
  } catch (const RegistryError& error) {
    if (error.failure() != RegistryFailure::unauthorized) {
      throw;
    }
    return {};
  }
  MountOutcome outcome;
  if (response.status == 201) {
    outcome.mounted = true;
  } else if (response.status == 202 && !response.header("location").empty()) {
    outcome.uploadLocation =
        absoluteLocation(session, target, response.header("location"));
  }
  return outcome;
}

// Uploads one blob from a file in a single PUT, hashing it as it goes. It
// uses `location` as the upload session, or starts one when it is "".
std::int64_t uploadBlob(RegistrySession& session, const Reference& target,
                        const Layout& layout, const Descriptor& blob,
                        std::string location) {
  if (location.empty()) {
    location = startUpload(session, target, blob.digest);
  }
  HttpRequest request;
  request.method = "PUT";
  request.url = location +
                (location.find('?') == std::string::npos ? "?" : "&") +
                "digest=" + session.http().escape(digestString(blob.digest));
  request.headers.push_back("Content-Type: application/octet-stream");
  request.bodyFile = layout.blobPath(blob.digest);
  std::unique_ptr<Sha256> hasher;
  request.onSend = [&](const char* data, std::size_t size) {
    hasher->update(data, size);
  };
  // NOTE: a retry after a 5xx sends the PUT to the same upload session. A
  // registry that dropped the session then responds with 404, and the push
  // fails.
  HttpResponse response = session.send(target, Access::push, request, [&] {
    hasher = std::make_unique<Sha256>();
  });
  Digest actual = hasher->finish();
  if (actual != blob.digest) {
    throw DigestMismatchError("blob " + request.bodyFile.string() +
                                  " in the image layout does not match its "
                                  "digest",
                              digestString(blob.digest), digestString(actual));
  }
  if (response.status != 201) {
    session.fail(target, response,
                 "cannot upload blob " + digestString(blob.digest) + " to " +
                     target.name());
  }
  return blob.size;
}

}  // namespace

std::string describeBlobs(const PushResult& result) {
  return std::to_string(result.blobsUploaded) + " blobs uploaded, " +
         std::to_string(result.blobsMounted) + " mounted, " +
         std::to_string(result.blobsPresent) + " already there";
}

PushResult RegistryClient::push(const Layout& layout, std::string_view name,
                                const Reference& target) {
  if (target.tag.empty() || target.digest) {
    throw UsageError("cannot push to '" + target.str() +
                         "': the destination needs a tag and no digest",
                     "name the destination as REGISTRY/NAME:TAG, such as " +
                         target.name() + ":1");
  }
  StoredImage image = layout.readImage(name);
  PushResult result;

  std::vector<Descriptor> blobs = {image.configDescriptor};
  std::set<Digest> seen = {image.configDescriptor.digest};
  for (const auto& layer : image.layers) {
    if (seen.insert(layer.digest).second) {
      blobs.push_back(layer);
    }
  }
  for (const auto& blob : blobs) {
    // NOTE: non-distributable (foreign) layers are skipped, as Docker does;
    // the registry must get them from their URLs.
    if (isNondistributable(blob.mediaType)) {
      continue;
    }
    // Blobs belong to a repository, so a blob that another repository of
    // this registry has is still missing here until it is mounted.
    std::string key = target.registry + "|" + digestString(blob.digest);
    if (hasBlob(target, blob.digest)) {
      ++result.blobsPresent;
      blobRepositories_.try_emplace(key, target.repository);
      continue;
    }
    std::string location;
    auto home = blobRepositories_.find(key);
    if (home != blobRepositories_.end() && home->second != target.repository) {
      MountOutcome mount =
          mountBlob(*session_, target, blob.digest, home->second);
      if (mount.mounted) {
        ++result.blobsMounted;
        continue;
      }
      location = mount.uploadLocation;
    }
    result.bytesUploaded +=
        uploadBlob(*session_, target, layout, blob, location);
    ++result.blobsUploaded;
    blobRepositories_.try_emplace(key, target.repository);
  }

  HttpRequest request;
  request.method = "PUT";
  request.url = session_->repositoryUrl(target) + "manifests/" + target.tag;
  request.headers.push_back("Content-Type: " +
                            image.manifestDescriptor.mediaType);
  request.body = image.manifest;
  HttpResponse response = session_->send(target, Access::push, request);
  if (response.status != 201 && response.status != 200) {
    session_->fail(target, response,
                   "cannot push the manifest of '" + std::string(name) +
                       "' to " + target.str());
  }
  result.digest = image.manifestDescriptor.digest;
  std::optional<Digest> stored =
      parseDigestString(response.header("docker-content-digest"));
  if (stored && *stored != result.digest) {
    throw DigestMismatchError(
        "registry " + target.registry + " stored the manifest of " +
            target.str() + " under another digest",
        digestString(result.digest), digestString(*stored));
  }
  result.reference = target.name() + "@" + digestString(result.digest);
  return result;
}

}  // namespace kiln::oci
