//! `nv2 admission serve` as a real process over HTTPS against a real `nv2-registry`: images signed with the `nv2`
//! binary by a trusted and an untrusted signer, one unsigned; AdmissionReviews as the API server sends them and
//! Gatekeeper ProviderRequests as Gatekeeper sends them.

mod admission_support;
mod common;

use admission_support::{pod_review, post, provider_request, review, Server, Tls, World};
use base64ct::{Base64, Encoding};
use serde_json::{json, Value};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap()
}

#[test]
fn admission_webhooks_and_gatekeeper_provider_judge_signed_unsigned_and_wrongly_signed_images() {
    let world = World::build();
    let tls = Tls::make();
    let server = Server::start(world.policy_dir.path(), &tls, true, &["--deadline", "5s"]);
    let client = tls.client(true);
    let repo = &world.repository;
    let signed_tag = format!("{repo}:signed");
    let unsigned_tag = format!("{repo}:unsigned");
    let mallory_tag = format!("{repo}:mallory");
    let signed_pinned = format!("{repo}@{}", world.signed);
    runtime().block_on(async {
        // /healthz needs no client certificate; the admission routes do.
        let anonymous = tls.client(false);
        let health = anonymous.get(format!("{}/healthz", server.url)).send().await.unwrap();
        assert_eq!(health.status().as_u16(), 200);
        let (status, body) =
            post(&anonymous, &format!("{}/validate", server.url), &pod_review("u0", &[&signed_tag])).await;
        assert_eq!(status, 401, "{body}");

        // Signed: allowed.
        let (status, body) = post(&client, &format!("{}/validate", server.url), &pod_review("u1", &[&signed_tag])).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(body["kind"], "AdmissionReview");
        assert_eq!(body["response"]["uid"], "u1");
        assert_eq!(body["response"]["allowed"], true, "{body}");

        // Unsigned and wrongly signed: refused, each image named with its reason.
        let (_, body) = post(
            &client,
            &format!("{}/validate", server.url),
            &pod_review("u2", &[&signed_tag, &unsigned_tag, &mallory_tag]),
        )
        .await;
        assert_eq!(body["response"]["uid"], "u2");
        assert_eq!(body["response"]["allowed"], false, "{body}");
        assert_eq!(body["response"]["status"]["code"], 403);
        let message = body["response"]["status"]["message"].as_str().unwrap();
        assert!(message.contains(&format!("{unsigned_tag}: ")), "{message}");
        assert!(message.contains(&format!("{mallory_tag}: ")), "{message}");
        assert!(!message.contains(&format!("{signed_tag}: ")), "the signed image is not refused: {message}");
        assert!(message.contains("no signature"), "unsigned reason: {message}");

        // /mutate pins the tag to the verified digest with a JSON Patch.
        let deployment = json!({
            "kind": "Deployment", "apiVersion": "apps/v1", "metadata": {"name": "web", "namespace": "default"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}}, "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"initContainers": [{"name": "init", "image": signed_pinned}],
                         "containers": [{"name": "web", "image": signed_tag}]}}}
        });
        let apps = json!({"group": "apps", "version": "v1", "kind": "Deployment"});
        let (_, body) = post(
            &client,
            &format!("{}/mutate", server.url),
            &review("u3", "CREATE", apps.clone(), "deployments", deployment, Value::Null),
        )
        .await;
        assert_eq!(body["response"]["allowed"], true, "{body}");
        assert_eq!(body["response"]["patchType"], "JSONPatch");
        let patch: Value =
            serde_json::from_slice(&Base64::decode_vec(body["response"]["patch"].as_str().unwrap()).unwrap()).unwrap();
        assert_eq!(
            patch,
            json!([{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": signed_pinned}]),
            "only the tag is replaced; the pinned init container is left as it is"
        );
        // An unsigned image in a CronJob is refused by /mutate like /validate.
        let cronjob = json!({"kind": "CronJob", "apiVersion": "batch/v1", "metadata": {"name": "nightly"},
            "spec": {"schedule": "@daily", "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never", "containers": [{"name": "job", "image": unsigned_tag}]}}}}}});
        let batch = json!({"group": "batch", "version": "v1", "kind": "CronJob"});
        let (_, body) = post(
            &client,
            &format!("{}/mutate", server.url),
            &review("u4", "CREATE", batch, "cronjobs", cronjob, Value::Null),
        )
        .await;
        assert_eq!(body["response"]["allowed"], false, "{body}");
        assert!(body["response"]["status"]["message"].as_str().unwrap().starts_with(&format!("{unsigned_tag}: ")));
        assert!(body["response"].get("patch").is_none());

        // Image volumes and ephemeral containers are checked too; DELETE is allowed without asking.
        let mut pod = pod_review("u5", &[&signed_tag]);
        pod["request"]["object"]["spec"]["volumes"] = json!([{"name": "data", "image": {"reference": mallory_tag}}]);
        pod["request"]["object"]["spec"]["ephemeralContainers"] = json!([{"name": "debug", "image": unsigned_tag}]);
        let (_, body) = post(&client, &format!("{}/validate", server.url), &pod).await;
        let message = body["response"]["status"]["message"].as_str().unwrap_or_default().to_string();
        assert!(message.contains(&mallory_tag) && message.contains(&unsigned_tag), "{body}");
        pod["request"]["operation"] = json!("DELETE");
        let (_, body) = post(&client, &format!("{}/validate", server.url), &pod).await;
        assert_eq!(body["response"]["allowed"], true, "{body}");
        // UPDATE checks only images the stored object does not already run.
        let mut update = pod_review("u6", &[&unsigned_tag, &signed_tag]);
        update["request"]["operation"] = json!("UPDATE");
        update["request"]["oldObject"] = pod_review("old", &[&unsigned_tag])["request"]["object"].clone();
        let (_, body) = post(&client, &format!("{}/validate", server.url), &update).await;
        assert_eq!(body["response"]["allowed"], true, "{body}");

        // Gatekeeper's verify provider: one item per key.
        let (status, body) = post(
            &client,
            &format!("{}/gatekeeper/verify", server.url),
            &provider_request(&[&signed_tag, &unsigned_tag, &mallory_tag, "not a reference"]),
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(body["apiVersion"], "externaldata.gatekeeper.sh/v1beta1");
        assert_eq!(body["kind"], "ProviderResponse");
        assert_eq!(body["response"]["idempotent"], false);
        assert_eq!(body["response"]["systemError"], "");
        let items = body["response"]["items"].as_array().unwrap();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0]["key"], signed_tag.as_str());
        let value = &items[0]["value"];
        assert_eq!(value["verified"], true, "{body}");
        assert_eq!(value["digest"], world.signed.as_str());
        assert_eq!(value["reference"], signed_pinned.as_str());
        assert_eq!(value["policy"], "signed-images");
        assert!(value["signer"].as_str().unwrap().contains("good"), "{value}");
        for item in &items[1..] {
            assert!(item.get("value").is_none(), "{item}");
            let error = item["error"].as_str().unwrap();
            assert!(!error.is_empty() && !error.contains('\n'), "{item}");
        }
        assert!(items[3]["error"].as_str().unwrap().contains("invalid image reference"), "{body}");

        // Gatekeeper's mutate provider: tags pinned, digests unchanged, refusals as errors; idempotent.
        let (_, body) = post(
            &client,
            &format!("{}/gatekeeper/mutate", server.url),
            &provider_request(&[&signed_tag, &signed_pinned, &unsigned_tag]),
        )
        .await;
        assert_eq!(body["response"]["idempotent"], true);
        let items = body["response"]["items"].as_array().unwrap();
        assert_eq!(items[0], json!({"key": signed_tag, "value": signed_pinned}));
        assert_eq!(items[1], json!({"key": signed_pinned, "value": signed_pinned}));
        assert!(items[2]["error"].as_str().is_some(), "{body}");

        // Malformed requests: a review gets 400 with the reason; a provider request a systemError.
        for (bad, expected) in [
            (Value::String("not a review".into()), "AdmissionReview"),
            (json!({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1beta1", "request": {}}), "v1beta1"),
            (json!({"kind": "AdmissionReview", "apiVersion": "admission.k8s.io/v1", "request": {"operation": "CREATE"}}), "uid"),
        ] {
            let (status, body) = post(&client, &format!("{}/validate", server.url), &bad).await;
            assert_eq!(status, 400, "{bad} -> {body}");
            assert!(body.as_str().unwrap().contains(expected), "{bad} -> {body}");
        }
        let garbage = client.post(format!("{}/mutate", server.url)).body(vec![0xff, 0x00, b'{']).send().await.unwrap();
        assert_eq!(garbage.status().as_u16(), 400);
        let (status, body) =
            post(&client, &format!("{}/gatekeeper/verify", server.url), &json!({"kind": "ProviderRequest"})).await;
        assert_eq!(status, 200);
        assert!(body["response"]["systemError"].as_str().unwrap().contains("ProviderRequest"), "{body}");
        assert_eq!(body["response"]["items"], json!([]));
        let oversized = client.post(format!("{}/validate", server.url)).body(vec![b' '; 5 * 1024 * 1024]).send().await;
        assert!(oversized.map(|r| r.status().as_u16()).unwrap_or(413) == 413);
        assert_eq!(anonymous.get(format!("{}/healthz", server.url)).send().await.unwrap().status().as_u16(), 200);
    });

    // The registry goes away: an image not yet judged is refused with a reason (before the deadline), and the
    // server keeps answering.
    drop(world.registry);
    runtime().block_on(async {
        let fresh = format!("{repo}:never-seen");
        let (status, body) = post(&client, &format!("{}/validate", server.url), &pod_review("u7", &[&fresh])).await;
        assert_eq!(status, 200);
        assert_eq!(body["response"]["allowed"], false, "{body}");
        let message = body["response"]["status"]["message"].as_str().unwrap();
        assert!(message.starts_with(&format!("{fresh}: ")) && message.len() > fresh.len() + 10, "{message}");
        let (_, body) = post(&client, &format!("{}/gatekeeper/verify", server.url), &provider_request(&[&fresh])).await;
        assert!(body["response"]["items"][0]["error"].as_str().is_some(), "{body}");
    });
}

#[test]
fn a_stalled_registry_is_refused_at_the_deadline_not_at_the_webhook_timeout() {
    // A listener that accepts connections and never answers: the registry round trip hangs.
    let stalled = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = stalled.local_addr().unwrap();
    let world = World::build();
    let tls = Tls::make();
    let server = Server::start(world.policy_dir.path(), &tls, false, &["--deadline", "2s"]);
    let client = tls.client(false);
    runtime().block_on(async {
        let image = format!("{address}/app:v1");
        let (status, body) = post(&client, &format!("{}/validate", server.url), &pod_review("s1", &[&image])).await;
        assert_eq!(status, 200);
        assert_eq!(body["response"]["allowed"], false, "{body}");
        let message = body["response"]["status"]["message"].as_str().unwrap();
        assert!(message.contains("deadline"), "{message}");
    });
    drop(stalled);
}

#[test]
fn five_hundred_concurrent_reviews_for_thirty_seconds_all_get_answers() {
    let world = World::build();
    let tls = Tls::make();
    let server = Server::start(world.policy_dir.path(), &tls, false, &[]);
    let client = tls.client(false);
    let signed = format!("{}:signed", world.repository);
    let unsigned = format!("{}:unsigned", world.repository);
    let url = format!("{}/validate", server.url);
    let (answered, wrong) = runtime().block_on(async {
        let until = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        let mut tasks = Vec::new();
        for worker in 0..500 {
            let (client, url, signed, unsigned) = (client.clone(), url.clone(), signed.clone(), unsigned.clone());
            tasks.push(tokio::spawn(async move {
                let (mut answered, mut wrong) = (0u64, Vec::new());
                let mut n = 0u64;
                while tokio::time::Instant::now() < until {
                    n += 1;
                    let refuse = (worker + n) % 5 == 0;
                    let image = if refuse { &unsigned } else { &signed };
                    let uid = format!("w{worker}-{n}");
                    let body = pod_review(&uid, &[image]).to_string();
                    match client.post(&url).body(body).send().await {
                        Ok(response) if response.status().as_u16() == 200 => {
                            let text = response.text().await.unwrap_or_default();
                            let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
                            answered += 1;
                            if body["response"]["uid"] != uid.as_str() || body["response"]["allowed"] != !refuse {
                                wrong.push(body.to_string());
                            }
                        }
                        Ok(response) => wrong.push(format!("HTTP {}", response.status())),
                        Err(e) => wrong.push(format!("request failed: {e}")),
                    }
                }
                (answered, wrong)
            }));
        }
        let mut total = (0u64, Vec::new());
        for task in tasks {
            let (answered, mut wrong) = task.await.unwrap();
            total.0 += answered;
            total.1.append(&mut wrong);
        }
        total
    });
    assert!(wrong.is_empty(), "{} wrong answers, first: {:?}", wrong.len(), wrong.first());
    assert!(answered >= 500, "every worker got answers: {answered}");
    eprintln!("load: {answered} reviews answered in 30 s by 500 concurrent clients");
}

/// Writes `files` into a fresh timestamped directory of `root` and points `..data` at it, as the kubelet updates
/// a ConfigMap volume: the visible names are links into `..data`, and an update swaps that one link atomically.
#[cfg(unix)]
fn configmap_generation(root: &std::path::Path, generation: u32, files: &[(&str, Vec<u8>)]) {
    let stamped = format!("..2026_12_02_01_00_0{generation}.{generation}");
    for (name, bytes) in files {
        let path = root.join(&stamped).join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let staged = root.join("..data_tmp");
    std::os::unix::fs::symlink(&stamped, &staged).unwrap();
    std::fs::rename(&staged, root.join("..data")).unwrap();
    for top in files.iter().map(|(name, _)| name.split('/').next().unwrap()) {
        let link = root.join(top);
        if std::fs::symlink_metadata(&link).is_err() {
            std::os::unix::fs::symlink(format!("..data/{top}"), &link).unwrap();
        }
    }
}

/// An SPDX 2.3 document listing `packages` (name, version, declared licence).
fn spdx(packages: &[(&str, &str, &str)]) -> Vec<u8> {
    let listed: Vec<Value> = packages
        .iter()
        .enumerate()
        .map(|(i, (name, version, license))| {
            json!({"SPDXID": format!("SPDXRef-Package-{i}"), "name": name, "versionInfo": version,
                   "downloadLocation": "NOASSERTION", "licenseDeclared": license})
        })
        .collect();
    json!({"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": "app",
           "documentNamespace": "https://example.com/spdx/app", "creationInfo": {"created": "2026-12-02T00:00:00Z",
           "creators": ["Tool: test"]}, "packages": listed})
    .to_string()
    .into_bytes()
}

#[cfg(unix)]
#[test]
fn a_configmap_mounted_policy_dir_with_sbom_rules_is_followed_and_reloaded() {
    let world = World::build();
    let (good, mallory, repo) = (&world.good, &world.mallory, &world.repository);
    // Three more images, all signed by the trusted signer: one whose SBoM it signed too (listing log4j-core), one
    // whose SBoM only mallory signed, and the `signed` image of the world, which has no SBoM at all.
    let with_sbom = good.push(repo, "image with a signed SBoM");
    good.ok(&["sign", &format!("{repo}@{with_sbom}")]);
    let with_rogue_sbom = good.push(repo, "image with an SBoM signed by mallory");
    good.ok(&["sign", &format!("{repo}@{with_rogue_sbom}")]);
    let sbom_file = good.dir.path().join("sbom.spdx.json");
    std::fs::write(&sbom_file, spdx(&[("log4j-core", "2.14.1", "Apache-2.0"), ("busybox", "1.36", "GPL-2.0-only")]))
        .unwrap();
    let sbom_arg = format!("{}:application/spdx+json", sbom_file.display());
    for (subject, signer) in [(&with_sbom, good), (&with_rogue_sbom, mallory)] {
        let attached =
            good.ok(&["attach", "--artifact-type", "application/spdx+json", &format!("{repo}@{subject}"), &sbom_arg]);
        let sbom = attached["descriptor"]["digest"].as_str().unwrap().to_string();
        signer.ok(&["sign", &format!("{repo}@{sbom}")]);
    }

    // The policy directory as the kubelet mounts a ConfigMap: every name a link into `..data`.
    let mounted = tempfile::tempdir().unwrap();
    let policy = std::fs::read(world.policy_dir.path().join("trustpolicy.oci.json")).unwrap();
    let certificate = std::fs::read(world.policy_dir.path().join("truststore/x509/ca/good/good.crt")).unwrap();
    let generation = |rules: Value| {
        vec![
            ("trustpolicy.oci.json", policy.clone()),
            ("truststore/x509/ca/good/good.crt", certificate.clone()),
            ("admission.json", rules.to_string().into_bytes()),
        ]
    };
    configmap_generation(mounted.path(), 1, &generation(json!({"requireSbom": true})));
    assert!(std::fs::symlink_metadata(mounted.path().join("trustpolicy.oci.json")).unwrap().file_type().is_symlink());

    let tls = Tls::make();
    let server = Server::start(mounted.path(), &tls, false, &["--deadline", "5s"]);
    let client = tls.client(false);
    let validate = format!("{}/validate", server.url);
    let judge = |uid: &'static str, digest: String| {
        let (client, validate, repository) = (client.clone(), validate.clone(), world.repository.clone());
        async move {
            let image = format!("{repository}@{digest}");
            let (status, body) = post(&client, &validate, &pod_review(uid, &[&image])).await;
            assert_eq!(status, 200, "{body}");
            let message = body["response"]["status"]["message"].as_str().unwrap_or_default().to_string();
            (body["response"]["allowed"] == true, message)
        }
    };
    runtime().block_on(async {
        // requireSbom: the image with a trusted SBoM passes; the one without, and the one whose SBoM only an
        // untrusted signer vouches for, are refused with the reason.
        assert_eq!(judge("c1", with_sbom.clone()).await, (true, String::new()));
        let (allowed, message) = judge("c2", world.signed.clone()).await;
        assert!(!allowed && message.contains("has no SBoM referrer, and one is required"), "{message}");
        let (allowed, message) = judge("c3", with_rogue_sbom.clone()).await;
        assert!(!allowed && message.contains("no SBoM of") && message.contains("verifies"), "{message}");

        // The ConfigMap is updated (the kubelet swaps `..data`): log4j-core is now denied, and GPL-2.0-only.
        configmap_generation(
            mounted.path(),
            2,
            &generation(json!({"requireSbom": true, "denyPackages": ["log4j-core"]})),
        );
        let mut outcome = (true, String::new());
        for _ in 0..100 {
            outcome = judge("c4", with_sbom.clone()).await;
            if !outcome.0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert!(!outcome.0 && outcome.1.contains("lists denied package log4j-core 2.14.1"), "{outcome:?}");
        configmap_generation(mounted.path(), 3, &generation(json!({"denyLicenses": ["GPL-2.0-only"]})));
        for _ in 0..100 {
            outcome = judge("c5", with_sbom.clone()).await;
            if outcome.1.contains("licence") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        assert!(!outcome.0 && outcome.1.contains("busybox under denied licence GPL-2.0-only"), "{outcome:?}");
        // Without requireSbom, an image with no SBoM passes the licence rule.
        assert_eq!(judge("c6", world.signed.clone()).await, (true, String::new()));
    });
}
