"""Kubernetes API access through the official client: kubeconfig (a context on the on-call
engineer's machine) or the pod's service account (the CronJob), created on first use so that
subcommands that never touch the API need no kubeconfig."""

from __future__ import annotations

import os
from functools import cached_property
from typing import Any

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException

CNPG_GROUP, CNPG_VERSION = "postgresql.cnpg.io", "v1"
BARMAN_GROUP, BARMAN_VERSION = "barmancloud.cnpg.io", "v1"
TIMEOUT_SECONDS = 10

__all__ = ["ApiException", "Kube", "KubeUnavailable"]


class KubeUnavailable(RuntimeError):
    """No usable kubeconfig or in-cluster service account."""


class Kube:
    """Typed API groups over one ApiClient; `kubeconfig`/`context` None means the default lookup."""

    def __init__(self, kubeconfig: str | None = None, context: str | None = None):
        self.kubeconfig, self.context = kubeconfig, context

    @cached_property
    def api_client(self) -> client.ApiClient:
        try:
            if self.kubeconfig is None and self.context is None and "KUBERNETES_SERVICE_HOST" in os.environ:
                configuration = client.Configuration()
                config.load_incluster_config(client_configuration=configuration)
                return client.ApiClient(configuration)
            return config.new_client_from_config(config_file=self.kubeconfig, context=self.context)
        except (config.ConfigException, OSError) as error:
            raise KubeUnavailable(f"no Kubernetes access ({error}); pass --kubeconfig/--context") from None

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api_client)

    @property
    def apps(self) -> client.AppsV1Api:
        return client.AppsV1Api(self.api_client)

    @property
    def autoscaling(self) -> client.AutoscalingV2Api:
        return client.AutoscalingV2Api(self.api_client)

    @property
    def networking(self) -> client.NetworkingV1Api:
        return client.NetworkingV1Api(self.api_client)

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api_client)

    def cnpg_cluster(self, namespace: str, name: str) -> dict[str, Any]:
        return self.custom.get_namespaced_custom_object(CNPG_GROUP, CNPG_VERSION, namespace, "clusters", name,
                                                        _request_timeout=TIMEOUT_SECONDS)

    def object_store(self, namespace: str, name: str) -> dict[str, Any]:
        return self.custom.get_namespaced_custom_object(BARMAN_GROUP, BARMAN_VERSION, namespace, "objectstores",
                                                        name, _request_timeout=TIMEOUT_SECONDS)
