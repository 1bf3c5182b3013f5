import * as api from '../../generated/sdk.gen.js';
import type { ListPersonsData, Person, PersonCreate, PersonUpdate } from '../../generated/types.gen.js';
import type { RequestOptions } from '../core.js';
import type { PagePromise } from '../pagination.js';
import { APIResource, type ListParams, withCursor } from './resource.js';

/** Payees and collaborators. */
export class Persons extends APIResource {
  /** Creates a person; with `invite: true` an invitation to accept their split shares goes out at once. */
  create(body: PersonCreate, options?: RequestOptions): Promise<Person> {
    return this._transport.call((call) => api.createPerson({ ...call, body }), options);
  }

  /** The persons of the credential's environment, newest first. */
  list(params: ListParams<ListPersonsData> = {}, options?: RequestOptions): PagePromise<Person> {
    return this._transport.list<Person>((cursor, call) => api.listPersons({ ...call, query: withCursor(params, cursor) }), options);
  }

  get(id: string, options?: RequestOptions): Promise<Person> {
    return this._transport.call((call) => api.getPerson({ ...call, path: { id } }), options);
  }

  /** Changes the fields given; the others keep their value. */
  update(id: string, body: PersonUpdate, options?: RequestOptions): Promise<Person> {
    return this._transport.call((call) => api.updatePerson({ ...call, path: { id }, body }), options);
  }

  /** Deletes a person who holds no split share and no track credit (else `409 person_in_use`). */
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this._transport.call((call) => api.deletePerson({ ...call, path: { id } }), options);
  }

  /** Sends the person a new invitation link (earlier links stop working). */
  invite(id: string, options?: RequestOptions): Promise<Person> {
    return this._transport.call((call) => api.invitePerson({ ...call, path: { id } }), options);
  }
}
