package index

import (
	"context"
	"sync"
	"testing"
	"time"
)

// A connection the pool opens while another one writes waits for the
// write instead of failing with SQLITE_BUSY: a player opening while the
// recorder adds a fragment must not get an error. The pool is made to open
// a new connection for every query.
func TestNewConnectionsWaitForTheWriter(t *testing.T) {
	t.Parallel()
	db := openTemp(t)
	ctx := context.Background()
	if _, err := db.db.ExecContext(ctx, "CREATE TABLE busy(a INTEGER PRIMARY KEY, b)"); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			tx, err := db.db.BeginTx(ctx, nil)
			if err == nil {
				_, err = tx.ExecContext(ctx, "INSERT INTO busy(b) VALUES (?)", i)
				time.Sleep(time.Millisecond)
				if err == nil {
					err = tx.Commit()
				} else {
					_ = tx.Rollback()
				}
			}
			if err != nil {
				writeErr = err
				return
			}
		}
	}()
	db.db.SetMaxIdleConns(0) // every query on a new connection
	var readErr error
	for range 200 {
		var n int
		if err := db.db.QueryRowContext(ctx, "SELECT count(*) FROM busy").Scan(&n); err != nil {
			readErr = err
			break
		}
	}
	close(stop)
	wg.Wait()
	if writeErr != nil || readErr != nil {
		t.Fatalf("writer: %v; reader: %v", writeErr, readErr)
	}
}
