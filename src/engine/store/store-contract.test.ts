// The SQLite + file-system store against the store contract every tier must keep (test/support/store-contract.ts).
import {registerStoreContractTests} from '../../../test/support/store-contract.js';
import {Store} from './store.js';

registerStoreContractTests('SQLite index + local CAS', (dir) => Store.open(dir));
