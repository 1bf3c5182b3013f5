import { type ClientOptions, Transport } from './core.js';
import { ApiKeys } from './resources/api-keys.js';
import { Earnings } from './resources/earnings.js';
import { Events } from './resources/events.js';
import { InboundWebhooks } from './resources/inbound-webhooks.js';
import { OAuth } from './resources/oauth.js';
import { BalanceResource, Payouts } from './resources/payouts.js';
import { Persons } from './resources/persons.js';
import { Releases } from './resources/releases.js';
import { Sandbox } from './resources/sandbox.js';
import { SmartLinks } from './resources/smartlinks.js';
import { Splits } from './resources/splits.js';
import { System } from './resources/system.js';
import { Tracks } from './resources/tracks.js';
import { WebhookEndpoints } from './resources/webhook-endpoints.js';
import * as webhooks from './webhooks.js';

/**
 * The OG Records API client.
 *
 * ```ts
 * const client = new OGRecords({ apiKey: process.env.OG_RECORDS_API_KEY });
 * const release = await client.releases.create({ title: 'Night Drive', primary_artists: ['Nova'] });
 * ```
 */
export class OGRecords {
  readonly releases: Releases;
  readonly tracks: Tracks;
  readonly splits: Splits;
  readonly persons: Persons;
  readonly sandbox: Sandbox;
  readonly earnings: Earnings;
  readonly balance: BalanceResource;
  readonly payouts: Payouts;
  readonly smartLinks: SmartLinks;
  readonly events: Events;
  readonly webhookEndpoints: WebhookEndpoints;
  readonly apiKeys: ApiKeys;
  readonly oauth: OAuth;
  readonly inboundWebhooks: InboundWebhooks;
  readonly system: System;
  /** Verifies and parses the signed events the API sends to your endpoints (no request is made). */
  readonly webhooks = webhooks;
  readonly baseUrl: string;

  constructor(options: ClientOptions = {}) {
    const transport = new Transport(options);
    this.baseUrl = transport.baseUrl;
    this.releases = new Releases(transport);
    this.tracks = new Tracks(transport);
    this.splits = new Splits(transport);
    this.persons = new Persons(transport);
    this.sandbox = new Sandbox(transport);
    this.earnings = new Earnings(transport);
    this.balance = new BalanceResource(transport);
    this.payouts = new Payouts(transport);
    this.smartLinks = new SmartLinks(transport);
    this.events = new Events(transport);
    this.webhookEndpoints = new WebhookEndpoints(transport);
    this.apiKeys = new ApiKeys(transport);
    this.oauth = new OAuth(transport);
    this.inboundWebhooks = new InboundWebhooks(transport);
    this.system = new System(transport);
  }
}
