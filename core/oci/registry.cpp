#include "core/oci/registry.h"

#include <nlohmann/json.hpp>
#include <set>

#include "core/oci/errors.h"
#include "core/oci/registry_session.h"

namespace kiln::oci {

using nlohmann::json;

namespace {

const std::string kManifestAccept = "Accept: " + std::string(media::kOciIndex) +
                                    ", " + std::string(media::kOciManifest) +
                                    ", " +
                                    std::string(media::kDockerManifestList) +
                                    ", " + std::string(media::kDockerManifest);

// The media type of a manifest response: the Content-Type without
// parameters, else the body's mediaType field.
std::string manifestMediaType(const HttpResponse& response, const json& body) {
  std::string type = response.header("content-type");
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') {
    type.pop_back();
  }
  if (isIndexMediaType(type) || isManifestMediaType(type)) {
    return type;
  }
  std::string declared = body.is_object() ? body.value("mediaType", "") : "";
  if (!declared.empty()) {
    return declared;
  }
  // An OCI manifest or index may leave out mediaType.
  return body.is_object() && body.contains("manifests")
             ? std::string(media::kOciIndex)
             : std::string(media::kOciManifest);
}

struct Fetched {
  Descriptor descriptor;
  std::string bytes;
};

}  // namespace

RegistryClient::RegistryClient(RegistryOptions options)
    : session_(std::make_unique<RegistrySession>(options)) {}

RegistryClient::~RegistryClient() = default;

namespace {

// GETs one manifest by tag or digest and checks its digest against the
// pinned digest, else against the Docker-Content-Digest header.
Fetched fetchManifest(RegistrySession& session, const Reference& reference,
                      const std::string& manifestReference,
                      const std::optional<Digest>& expected) {
  HttpRequest request;
  request.url =
      session.repositoryUrl(reference) + "manifests/" + manifestReference;
  request.headers.push_back(kManifestAccept);
  HttpResponse response = session.send(reference, Access::pull, request);
  if (response.status != 200) {
    session.fail(reference, response,
                 "cannot get the manifest of " + reference.str());
  }
  Fetched fetched;
  fetched.bytes = std::move(response.body);
  Digest actual = sha256(fetched.bytes);
  std::optional<Digest> claimed = expected;
  if (!claimed) {
    claimed = parseDigestString(response.header("docker-content-digest"));
  }
  if (claimed && *claimed != actual) {
    throw DigestMismatchError("the manifest of " + reference.str() +
                                  " from registry " + reference.registry +
                                  " does not match its digest",
                              digestString(*claimed), digestString(actual));
  }
  json body = parseJson(fetched.bytes, "the manifest of " + reference.str());
  fetched.descriptor.mediaType = manifestMediaType(response, body);
  fetched.descriptor.digest = actual;
  fetched.descriptor.size = static_cast<std::int64_t>(fetched.bytes.size());
  return fetched;
}

}  // namespace

ResolvedManifest RegistryClient::resolve(const Reference& reference) {
  Fetched top = fetchManifest(*session_, reference,
                              reference.manifestReference(), reference.digest);
  ResolvedManifest resolved;
  resolved.reference = reference;
  if (isIndexMediaType(top.descriptor.mediaType)) {
    json index = parseJson(top.bytes, "the index of " + reference.str());
    std::vector<Descriptor> manifests;
    for (const auto& entry : index.value("manifests", json::array())) {
      manifests.push_back(Descriptor::fromJson(entry));
    }
    std::optional<Descriptor> selected = selectLinuxAmd64(manifests);
    if (!selected) {
      throw RegistryError(RegistryFailure::notFound,
                          "image " + reference.str() +
                              " has no linux/amd64 variant (it has: " +
                              describePlatforms(manifests) + ")",
                          "use an image that is built for linux/amd64");
    }
    resolved.indexDigest = top.descriptor.digest;
    top = fetchManifest(*session_, reference, digestString(selected->digest),
                        selected->digest);
  }
  if (!isManifestMediaType(top.descriptor.mediaType)) {
    throw RegistryError(RegistryFailure::rejected,
                        "image " + reference.str() +
                            " has an unsupported manifest media type '" +
                            top.descriptor.mediaType + "'",
                        "kiln reads OCI image manifests and Docker image "
                        "manifests v2 schema 2");
  }
  resolved.descriptor = top.descriptor;
  resolved.manifest = std::move(top.bytes);
  return resolved;
}

bool RegistryClient::hasBlob(const Reference& repository,
                             const Digest& digest) {
  HttpRequest request;
  request.method = "HEAD";
  request.url =
      session_->repositoryUrl(repository) + "blobs/" + digestString(digest);
  HttpResponse response = session_->send(repository, Access::pull, request);
  if (response.status == 200) {
    return true;
  }
  if (response.status == 404) {
    return false;
  }
  session_->fail(repository, response,
                 "cannot check blob " + digestString(digest));
}

PulledImage RegistryClient::pull(const Reference& reference, BlobSink& sink) {
  PulledImage image;
  image.resolved = resolve(reference);
  json manifest =
      parseJson(image.resolved.manifest, "the manifest of " + reference.str());
  image.configDescriptor =
      Descriptor::fromJson(manifest.value("config", json()));
  for (const auto& layer : manifest.value("layers", json::array())) {
    image.layers.push_back(Descriptor::fromJson(layer));
  }

  // The config first (its bytes are returned), then each distinct layer.
  std::vector<Descriptor> blobs = {image.configDescriptor};
  std::set<Digest> seen = {image.configDescriptor.digest};
  for (const auto& layer : image.layers) {
    if (seen.insert(layer.digest).second) {
      blobs.push_back(layer);
    }
  }
  for (std::size_t i = 0; i < blobs.size(); ++i) {
    const Descriptor& blob = blobs[i];
    bool isConfig = i == 0;
    if (!isConfig && sink.hasBlob(blob.digest)) {
      ++image.blobsPresent;
      continue;
    }
    std::unique_ptr<BlobWriter> writer;
    std::unique_ptr<Sha256> hasher;
    std::string configBytes;
    HttpRequest request;
    request.url = session_->repositoryUrl(reference) + "blobs/" +
                  digestString(blob.digest);
    request.onBody = [&](const char* data, std::size_t size) {
      hasher->update(data, size);
      if (isConfig) {
        configBytes.append(data, size);
      }
      if (writer) {
        writer->write(data, size);
      }
    };
    // Each attempt starts a fresh writer, so a broken transfer that is
    // retried leaves no partial blob behind.
    auto prepare = [&] {
      hasher = std::make_unique<Sha256>();
      configBytes.clear();
      writer.reset();
      if (!(isConfig && sink.hasBlob(blob.digest))) {
        writer = sink.openBlob(blob);
      }
    };
    HttpResponse response =
        session_->send(reference, Access::pull, request, prepare);
    if (response.status != 200) {
      session_->fail(reference, response,
                     "cannot download blob " + digestString(blob.digest) +
                         " of " + reference.str());
    }
    Digest actual = hasher->finish();
    if (actual != blob.digest) {
      throw DigestMismatchError(
          "blob " + digestString(blob.digest) + " of " + reference.str() +
              " from registry " + reference.registry +
              " does not match its digest",
          digestString(blob.digest), digestString(actual));
    }
    if (writer) {
      writer->commit();
      ++image.blobsDownloaded;
    } else {
      ++image.blobsPresent;
    }
    if (isConfig) {
      image.config = std::move(configBytes);
    }
  }

  // The manifest last, so a sink that has it also has everything it lists.
  if (!sink.hasBlob(image.resolved.descriptor.digest)) {
    std::unique_ptr<BlobWriter> writer =
        sink.openBlob(image.resolved.descriptor);
    writer->write(image.resolved.manifest.data(),
                  image.resolved.manifest.size());
    writer->commit();
  }
  return image;
}

PulledImage pullToLayout(RegistryClient& client, const Reference& reference,
                         Layout& layout, std::string_view name) {
  validateImageName(name);
  PulledImage image = client.pull(reference, layout);
  layout.setImage(name, image.resolved.descriptor);
  return image;
}

}  // namespace kiln::oci
