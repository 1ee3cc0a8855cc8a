/*
 * greengrass.h - the Greengrass nucleus config.yaml for a fleet: the
 * aws.greengrass.FleetProvisioningByClaim plugin's configuration, in
 * AWS's documented layout (services: aws.greengrass.Nucleus {version},
 * aws.greengrass.FleetProvisioningByClaim {configuration: ...}).
 *
 * Pure rendering, no I/O: used by GET /v1/fleets/{name}/greengrass-config
 * and by the claims bundle.
 */
#ifndef FW_ROUTES_GREENGRASS_H
#define FW_ROUTES_GREENGRASS_H

#include <jansson.h>

/* Device-side settings; every member may be NULL for its default. */
struct greengrass_paths {
    const char *root_path;       /* "/greengrass/v2" */
    const char *claim_cert_path; /* ROOT "/claim-certs/claim.pem.crt" */
    const char *claim_key_path;  /* ROOT "/claim-certs/claim.private.pem.key" */
    const char *root_ca_path;    /* ROOT "/AmazonRootCA1.pem" */
    const char
        *nucleus_version; /* settings.greengrass.nucleusVersion, else GREENGRASS_NUCLEUS_DEFAULT */
    const char *thing_name; /* templateParameters.ThingName; "<THING_NAME>" (fill per device) */
    const char *thing_group_name; /* templateParameters.ThingGroupName; the fleet's first group */
    int mqtt_port; /* the data endpoint's MQTT port; 0 = AWS's 8883 (FLEETWARDEN_IOT_MQTT_PORT) */
    int credentials_port; /* the credentials endpoint's HTTPS port; 0 = AWS's 443
                             (FLEETWARDEN_IOT_CREDENTIALS_PORT) */
};

#define GREENGRASS_MQTT_PORT_AWS 8883
#define GREENGRASS_CREDENTIALS_PORT_AWS 443

/*
 * What must be filled in on each device before it provisions: one
 * {"parameter", "placeholder", "rule"} per placeholder the config carries
 * (ThingName "<THING_NAME>" when the fleet's template takes the thing name
 * from the device; SerialNumber "<SERIAL_NUMBER>" for thingName.from
 * serialNumber; none for certificateId, or when paths fill it). New array.
 */
json_t *greengrass_per_device(const json_t *fleet, const struct greengrass_paths *paths);

/*
 * The YAML for fleet (a document as store_fleet_get gives it: region,
 * resources.endpoints.{dataAts,credentialProvider}, resources.roleAlias.name,
 * resources.template.name, spec.thingGroups, spec.template.thingName,
 * settings.greengrass.nucleusVersion). A port other than AWS's is written
 * where Greengrass reads it: mqttPort (the plugin) and the nucleus's
 * mqtt.port for the MQTT port, iotCredentialEndpoint as "host:port" for the
 * credentials port (the nucleus requests "https://" + iotCredEndpoint).
 * Values are double-quoted and
 * escaped. Returns a new string (free()), or NULL when the fleet lacks the
 * data endpoint or the template name (not ready). paths may be NULL.
 */
char *greengrass_config_yaml(const json_t *fleet, const struct greengrass_paths *paths);

#endif
