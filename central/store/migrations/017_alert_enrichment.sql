-- Enrichment on alerts (issue 21 ask 1): what central knows of the addresses and the asset an
-- alert names (GeoIP with ASN, reverse DNS, asset name/role/site, threat-intel matches), stored
-- with the alert when it is raised and merged when repeats group into it (central/enrich/alert.ts).
-- Its search terms are tags (`geo.country:RU`, `intel.feed:abuse`), found through a GIN index.
ALTER TABLE alerts ADD COLUMN enrichment jsonb;
CREATE INDEX alerts_tags_idx ON alerts USING gin (tags);

-- The kind of device the protocol reported (e.g. the EtherNet/IP identity's device type name),
-- which enrichment names as the asset's role.
ALTER TABLE devices ADD COLUMN role text;
