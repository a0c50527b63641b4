-- A Microsoft 365 tenant is bound to one Stratus tenant, and a resource account to one service
-- of it: the database enforces what the API checks, so concurrent writes cannot race past it.
DROP INDEX tenants_m365;
CREATE UNIQUE INDEX tenants_m365 ON tenants (m365_tenant_id);
DROP INDEX services_app_instance;
CREATE UNIQUE INDEX services_app_instance ON services (tenant_id, app_instance_id);
