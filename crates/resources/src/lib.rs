//! KubeSphere's resources.kubesphere.io/v1alpha3 listing API: query parsing, indexed projection caches fed by watches, filtering, sorting and paging.
